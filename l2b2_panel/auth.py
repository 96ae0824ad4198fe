"""Staff login for a panel that sits on a public WLAN: scrypt password hashes, sessions, throttling.

No ROS here. Passwords are hashed with the standard library's scrypt (a memory-hard KDF); the users
file holds only hashes and roles. Sessions live in memory: restarting the panel logs everyone out.
"""
from __future__ import annotations

import base64
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
import hashlib
import hmac
import json
import os
from pathlib import Path
import re
import secrets
import tempfile
import time

ROLES = ('staff', 'observer')
#: Only staff may act; observers see the live stream.
STAFF, OBSERVER = ROLES
DEMO_USER, DEMO_PASSWORD = 'staff', 'l2b2-demo'
MIN_PASSWORD_LENGTH = 8
_USER = re.compile(r'^[A-Za-z0-9_.-]{1,32}$')
# scrypt cost: 16 MiB of memory and some 50 ms per try, enough to make offline guessing expensive.
_N, _R, _P = 2**14, 8, 1


class AuthError(ValueError):
    """A user name, password or users file is not acceptable."""


def hash_password(password: str, *, n: int = _N, r: int = _R, p: int = _P) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64): the salt is random, so equal passwords hash differently."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode('utf-8'), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)
    return '$'.join(('scrypt', str(n), str(r), str(p), _b64(salt), _b64(digest)))


def verify_password(password: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split('$')
        if scheme != 'scrypt':
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode('utf-8'), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 1024 * 1024, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode('ascii')


@dataclass(frozen=True)
class User:
    name: str
    role: str
    password_hash: str


class UserStore:
    """The users file (JSON, mode 0600): ``{"users": {"name": {"role": ..., "password_hash": ...}}}``."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._users: dict[str, User] = {}
        self._demo: User | None = None
        if self.path and self.path.exists():
            self._users = self._read(self.path)

    @staticmethod
    def _read(path: Path) -> dict[str, User]:
        try:
            data = json.loads(path.read_text(encoding='utf-8'))
            users = {}
            for name, entry in data['users'].items():
                if entry['role'] not in ROLES or not str(entry['password_hash']).startswith('scrypt$'):
                    raise AuthError(f'{path}: users.{name}: bad role or password hash')
                users[name] = User(name, entry['role'], entry['password_hash'])
            return users
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AuthError(f'{path}: cannot read the users file: {exc}') from None

    def enable_demo_user(self) -> None:
        """Simulation only: the documented demo credential, kept in memory, never written to disk."""
        if DEMO_USER not in self._users:
            self._demo = User(DEMO_USER, STAFF, hash_password(DEMO_PASSWORD))

    def get(self, name: str) -> User | None:
        if self._demo and name == self._demo.name:
            return self._demo
        return self._users.get(name)

    def __len__(self) -> int:
        return len(self._users) + (1 if self._demo else 0)

    def set_password(self, name: str, password: str, role: str = STAFF) -> None:
        """Add or change a user and write the file atomically (0600)."""
        if not _USER.match(name):
            raise AuthError(f'user name "{name}" must be 1-32 letters, digits, ".", "_" or "-"')
        if role not in ROLES:
            raise AuthError(f'role "{role}" must be one of {", ".join(ROLES)}')
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AuthError(f'the password must have at least {MIN_PASSWORD_LENGTH} characters')
        if password == DEMO_PASSWORD:
            raise AuthError('the demo password is public: choose another one')
        if self.path is None:
            raise AuthError('no users file configured')
        self._users[name] = User(name, role, hash_password(password))
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        data = {'users': {u.name: {'role': u.role, 'password_hash': u.password_hash} for u in self._users.values()}}
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix='.users-')
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(data, f, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)


@dataclass
class Session:
    token: str
    user: str
    role: str
    expires: float
    #: Sent back by the page in a header on every control request (double check beside SameSite).
    csrf: str

    @property
    def is_staff(self) -> bool:
        return self.role == STAFF


class SessionStore:
    """Random bearer tokens (sent as an HttpOnly, SameSite=Strict cookie) with a fixed lifetime."""

    def __init__(self, expiry_s: float, clock: Callable[[], float] = time.monotonic):
        self.expiry_s = expiry_s
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def create(self, user: User) -> Session:
        self._purge()
        session = Session(secrets.token_urlsafe(32), user.name, user.role, self._clock() + self.expiry_s,
                          secrets.token_urlsafe(24))
        self._sessions[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        session = self._sessions.get(token)
        if session is None:
            return None
        if session.expires <= self._clock():
            del self._sessions[token]
            return None
        return session

    def end(self, token: str | None) -> None:
        self._sessions.pop(token or '', None)

    def _purge(self) -> None:
        now = self._clock()
        for token in [t for t, s in self._sessions.items() if s.expires <= now]:
            del self._sessions[token]


class LoginThrottle:
    """Slows password guessing without giving anyone a way to lock staff out.

    Failures are counted per user name *and* client address: guessing ``anna`` from one address slows
    that pair down (after ``max_failures`` in ``window_s``, a doubling delay from the last failure:
    1 s, 2 s, 4 s ... at most ``max_delay_s``), never other names from that address (an office behind
    NAT or the HTTPS proxy shares one) and never ``anna`` from elsewhere for long. Guesses at one name
    spread over many addresses slow that name down the same way, except from an address the user has
    logged in from before. One address spraying many names is slowed once it passes
    ``4 * max_failures`` failures, again not for names that logged in from there before. Nothing here
    is a hard lock-out: each delay is at most ``max_delay_s``, and a right password carrying the
    device cookie of an earlier log-in of that user (:class:`KnownDevices`) is never held back.
    """

    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic,
                 max_user_delay_s: float = 30.0):
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_delay_s = max_user_delay_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._known: dict[str, deque[str]] = {}  # user -> addresses of earlier successful logins

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key) or deque()
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def _delay(self, key: str, limit: int, now: float) -> float:
        times = self._recent(key, now)
        excess = len(times) - limit
        if excess < 0:
            return 0.0
        return max(0.0, times[-1] + min(self.max_delay_s, 2.0 ** excess) - now)

    def retry_after(self, client: str, user: str) -> float:
        """Seconds this client must wait before trying this user name (0 = go ahead)."""
        now = self._clock()
        wait = self._delay(f'pair:{user}\0{client}', self.max_failures, now)
        if client not in self._known.get(user, ()):
            wait = max(wait, self._delay(f'user:{user}', self.max_failures, now),
                       self._delay(f'ip:{client}', 4 * self.max_failures, now))
        return wait

    def failed(self, client: str, user: str) -> None:
        now = self._clock()
        for key in (f'pair:{user}\0{client}', f'user:{user}', f'ip:{client}'):
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > 10000:  # bound memory under a flood of random names
            self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > now - self.window_s}

    def succeeded(self, client: str, user: str, *, clear: bool = True) -> None:
        """A right password. ``clear=False`` when it came with a device cookie: the failures counted for
        this name and address were someone else's (a guesser sharing the address) and keep counting."""
        if clear:
            self._failures.pop(f'user:{user}', None)
            self._failures.pop(f'pair:{user}\0{client}', None)
        known = self._known.setdefault(user, deque(maxlen=20))
        if client not in known:
            known.append(client)


class KnownDevices:
    """Device cookies: a browser that logged in as a user before gets a random token for that user.

    A right password with that token is never throttled, so a guesser sharing the office's address
    cannot keep the real user out. Tokens live in memory (a restart forgets them, like sessions).
    """

    def __init__(self, per_user: int = 20):
        self._tokens: dict[str, deque[str]] = {}
        self._per_user = per_user

    def issue(self, user: str) -> str:
        token = secrets.token_urlsafe(24)
        self._tokens.setdefault(user, deque(maxlen=self._per_user)).append(token)
        return token

    def known(self, user: str, token: str | None) -> bool:
        return bool(token) and any(hmac.compare_digest(token, t) for t in self._tokens.get(user, ()))


class Authenticator:
    """Login = throttle check, password check (constant work for unknown users), new session."""

    def __init__(self, users: UserStore, sessions: SessionStore, throttle: LoginThrottle):
        self.users, self.sessions, self.throttle = users, sessions, throttle
        self.devices = KnownDevices()
        self._dummy_hash = hash_password(secrets.token_hex(8))

    def login(self, name: str, password: str, client: str, device: str | None = None) -> tuple[Session | None, float]:
        """(session, 0) on success; (None, retry_after_s) when throttled; (None, 0) when wrong.

        ``device``: the browser's device cookie; one issued to ``name`` before skips the throttle (a
        wrong password with it still counts as a failure)."""
        trusted = self.devices.known(name, device)
        wait = 0.0 if trusted else self.throttle.retry_after(client, name)
        if wait > 0:
            return None, wait
        user = self.users.get(name)
        ok = verify_password(password, user.password_hash if user else self._dummy_hash) and user is not None
        if not ok:
            self.throttle.failed(client, name)
            return None, 0.0
        self.throttle.succeeded(client, name, clear=not trusted)
        return self.sessions.create(user), 0.0


def default_users_file() -> Path:
    """Outside the repository: ``$L2B2_STATE_DIR`` or ``$XDG_STATE_HOME/l2b2`` or ``~/.local/state/l2b2``."""
    base = os.environ.get('L2B2_STATE_DIR') or os.path.join(
        os.environ.get('XDG_STATE_HOME') or os.path.expanduser('~/.local/state'), 'l2b2')
    return Path(base) / 'panel_users.json'

"""Workstation sessions of the embedded appointment server, as upstream eAppointment (ZMS) has them.

Upstream, a staff caller logs in with ``POST /workstation/login/`` (``{"id": login, "password": ...}``)
and gets a workstation whose ``authkey`` is the session id to send as ``X-Authkey``. The session
expires after ``SESSION_DURATION`` (36000 s by default), belongs to one workstation with its scope (or
its cluster's scopes), and each route checks a permission (check-in needs ``appointment``).
``DELETE /workstation/login/{login}/`` ends it. A fixed key (``staff_auth_keys``) is kept for the
demo: it acts as a session that never expires, with every scope and permission.

Also here: a per-client rate limit for the routes that change data (issue 17), so one caller cannot
exhaust a scope's waiting numbers for the day. No ROS, no HTTP framework: the app calls these.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
import hashlib
import hmac
import secrets
import threading
import time

from l2b2_queue_bridge.server_db import DbError

#: Upstream's exception class names, sent in ``meta.exception`` like upstream's error handler does.
MISSING_LOGIN = 'BO\\Zmsentities\\Exception\\UserAccountMissingLogin'
MISSING_RIGHTS = 'BO\\Zmsentities\\Exception\\UserAccountMissingRights'
INVALID_CREDENTIALS = 'BO\\Zmsbackend\\Useraccount\\Exception\\InvalidCredentials'
USERACCOUNT_NOT_FOUND = 'BO\\Zmsbackend\\Useraccount\\Exception\\UseraccountNotFound'
SCOPE_MISMATCH = 'BO\\Zmsentities\\Exception\\WorkstationProcessMatchScopeFailed'
STATUS_AUTH_FAILED = 'BO\\Zmsbackend\\Status\\Exception\\StatusAuthenticationFailed'
TOO_MANY_REQUESTS = 'TooManyRequests'


@dataclass(frozen=True)
class UserAccount:
    """A workstation user. ``scopes`` empty: every scope (a cluster-wide user); ``password_sha256`` only."""

    login: str
    password_sha256: str
    permissions: frozenset[str] = frozenset({'appointment'})
    scopes: frozenset[int] = frozenset()


def password_hash(password: str) -> str:
    return hashlib.sha256(password.encode('utf-8')).hexdigest()


@dataclass
class Workstation:
    """A logged-in session; ``expires`` is a wall-clock time (None: a fixed demo key)."""

    id: int
    user: UserAccount
    authkey: str = field(repr=False)
    expires: float | None

    def may_serve(self, scope_id: int) -> bool:
        return not self.user.scopes or scope_id in self.user.scopes

    def entity(self, scope: dict | None = None) -> dict:
        """The ZMS ``workstation`` entity (required: id, useraccount with id and permissions)."""
        body = {'id': self.id, 'authkey': self.authkey, 'name': '',
                'useraccount': {'id': self.user.login,
                                'permissions': {p: True for p in sorted(self.user.permissions)}}}
        if scope is not None:
            body['scope'] = scope
        return body


class Sessions:
    """Thread-safe session table. A new login of the same user replaces the old session (upstream:
    "useraccount was already loggedin and is replaced by new login")."""

    def __init__(self, users: dict[str, UserAccount], static_keys: tuple[str, ...] = (),
                 duration_s: float = 36000.0, clock: Callable[[], float] = time.time):
        self.users = dict(users)
        self.duration_s = duration_s
        self._clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, Workstation] = {}
        self._next_id = 1
        everything = UserAccount('l2b2-static-key', '', frozenset({'appointment', 'basic'}))
        self._static = tuple((k.encode(), Workstation(0, everything, k, None)) for k in static_keys)

    def login(self, login: str, password: str) -> Workstation:
        user = self.users.get(login)
        given = password_hash(password).encode()
        # Compare even for an unknown user, so timing does not tell which user names exist.
        expected = (user.password_sha256 if user else password_hash(secrets.token_hex(8))).encode()
        if not hmac.compare_digest(given, expected) or user is None:
            raise DbError(401, 'The login credentials (username, password) are invalid.', INVALID_CREDENTIALS)
        with self._lock:
            for key in [k for k, w in self._by_key.items() if w.user.login == login]:
                del self._by_key[key]
            workstation = Workstation(self._next_id, user, secrets.token_hex(16), self._clock() + self.duration_s)
            self._next_id += 1
            self._by_key[workstation.authkey] = workstation
            return workstation

    def resolve(self, key: str | None) -> Workstation | None:
        """The live session of ``key``; an expired session is removed and gives None."""
        if not key:
            return None
        for static, workstation in self._static:
            if hmac.compare_digest(key.encode(), static):
                return workstation
        with self._lock:
            workstation = self._by_key.get(key)
            if workstation is not None and workstation.expires is not None and workstation.expires <= self._clock():
                del self._by_key[key]
                return None
            return workstation

    def require(self, key: str | None, permission: str = '') -> Workstation:
        """Upstream's ``checkPermissions``: 401 without a live session, 403 without the permission."""
        workstation = self.resolve(key)
        if workstation is None:
            raise DbError(401, 'login required: no valid workstation session (X-Authkey)', MISSING_LOGIN)
        if permission and permission not in workstation.user.permissions:
            raise DbError(403, f'missing permission "{permission}"', MISSING_RIGHTS)
        return workstation

    def logout(self, key: str | None, login: str) -> Workstation:
        workstation = self.require(key)
        if login not in self.users and workstation.id != 0:
            raise DbError(404, 'useraccount not found', USERACCOUNT_NOT_FOUND)
        with self._lock:
            for k in [k for k, w in self._by_key.items() if w.user.login == login]:
                del self._by_key[k]
        return workstation

    def require_scope(self, workstation: Workstation, scope_id: int) -> None:
        if not workstation.may_serve(scope_id):
            raise DbError(403, 'Workstation is not allowed to edit the process, process scope does not match '
                               'with workstation cluster/scope', SCOPE_MISMATCH)


class RateLimit:
    """At most ``limit`` state-changing requests per client address in any ``window_s`` (a sliding window)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        if self.limit <= 0:
            return
        now = self._clock()
        with self._lock:
            if len(self._seen) > 10000:  # forget idle clients so the table cannot grow without bound
                for old in [c for c, q in self._seen.items() if not q or q[-1] <= now - self.window_s]:
                    del self._seen[old]
            times = self._seen.setdefault(client, deque())
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                retry = max(1, int(times[0] + self.window_s - now + 0.999))
                raise DbError(429, f'too many requests; retry in {retry} s', TOO_MANY_REQUESTS,
                              data={'retryAfter': retry})
            times.append(now)

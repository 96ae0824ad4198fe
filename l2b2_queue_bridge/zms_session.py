"""The robot's workstation session at a ZMS: credentials, login, renewal before expiry, logout.

Upstream, staff calls carry ``X-Authkey: <session id>`` from ``POST /workstation/login/``. The session
expires ``SESSION_DURATION`` after login (36000 s unless the city changed it; the answer does not say
when), so the robot renews it ``renew_before_s`` before the expiry it assumes, and at once when a call
is refused for a missing login (401). Renewal is logout + login: upstream refuses a second login of a
user that is still logged in (``UserAlreadyLoggedIn``, whose answer carries the live session, which is
then used). One login at a time; calls waiting for it share its result.

Credentials come from the environment (``L2B2_ZMS_PASSWORD``) or a secret file, never from a file in git,
and are never logged: ``Credentials`` hides the password from ``repr``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import os
from pathlib import Path
import threading
import time

PASSWORD_ENV = 'L2B2_ZMS_PASSWORD'


class CredentialError(ValueError):
    """The credentials cannot be read (a missing or unreadable secret file)."""


@dataclass(frozen=True)
class Credentials:
    login: str
    password: str = field(repr=False)


def read_credentials(login: str, password_file: str = '', env: dict[str, str] | None = None) -> Credentials | None:
    """``login`` with the password from ``$L2B2_ZMS_PASSWORD``, else from ``password_file``; None without a login."""
    if not login:
        return None
    env = os.environ if env is None else env
    if env.get(PASSWORD_ENV):
        return Credentials(login, env[PASSWORD_ENV])
    if not password_file:
        raise CredentialError(f'login "{login}" is set but neither ${PASSWORD_ENV} nor a password file is')
    path = Path(password_file).expanduser()
    try:
        password = path.read_text(encoding='utf-8').strip()
    except OSError as exc:
        raise CredentialError(f'cannot read the password file {path}: {exc.strerror}') from None
    if not password:
        raise CredentialError(f'the password file {path} is empty')
    return Credentials(login, password)


@dataclass(frozen=True)
class Workstation:
    """What a login gave: the session key, the workstation's scope (None: not set) and permissions."""

    authkey: str = field(repr=False)
    scope_id: int | None = None
    permissions: frozenset[str] = frozenset()


class LoginRefused(Exception):
    """The system refused the credentials (or the user lacks a permission): not worth retrying soon."""


class SessionKeeper:
    """Thread-safe holder of the current session; ``login``/``logout`` do the HTTP calls (the adapter's)."""

    def __init__(self, credentials: Credentials, login: Callable[[Credentials], Workstation],
                 logout: Callable[[Credentials, str], None], *, session_duration_s: float = 36000.0,
                 renew_before_s: float = 600.0, clock: Callable[[], float] = time.monotonic):
        self.credentials = credentials
        self._login, self._logout = login, logout
        self.session_duration_s = session_duration_s
        self.renew_before_s = min(renew_before_s, session_duration_s / 2)
        self._clock = clock
        self._lock = threading.Lock()
        self._workstation: Workstation | None = None
        self._expires = 0.0
        #: Why the last login failed ('' after a success): health reports it as an error.
        self.problem = ''
        self.logins = 0
        self.renewals = 0
        self.renewal_failures = 0
        #: Durations of the logins, seconds (the bench reports them).
        self.login_seconds: list[float] = []

    @property
    def workstation(self) -> Workstation | None:
        return self._workstation

    def key(self) -> str:
        """A session key valid for a while yet; logs in (or renews) when needed. Raises the login's errors."""
        with self._lock:
            if self._workstation is not None and self._clock() < self._expires - self.renew_before_s:
                return self._workstation.authkey
            return self._renew_locked(self._workstation.authkey if self._workstation else '')

    def refused(self, key: str) -> str:
        """The system said the session ``key`` is not (any more) logged in: log in again, unless another
        thread already did. Returns the new key."""
        with self._lock:
            if self._workstation is not None and self._workstation.authkey != key:
                return self._workstation.authkey
            self._workstation = None
            return self._renew_locked('')

    def _renew_locked(self, old_key: str) -> str:
        renewing = bool(old_key)
        if old_key:
            try:
                self._logout(self.credentials, old_key)
            except Exception:  # noqa: BLE001 - an expired session cannot log out: log in anyway
                pass
        started = self._clock()
        t0 = time.perf_counter()
        try:
            workstation = self._login(self.credentials)
        except Exception as exc:
            self._workstation = None
            self.problem = str(exc)[:200] or type(exc).__name__
            if renewing:
                self.renewal_failures += 1
            raise
        self.login_seconds.append(time.perf_counter() - t0)
        self.logins += 1
        self.renewals += renewing
        self.problem = ''
        self._workstation = workstation
        self._expires = started + self.session_duration_s
        return workstation.authkey

    def close(self) -> None:
        """Log out (on shutdown), so the session does not linger until it expires."""
        with self._lock:
            workstation, self._workstation = self._workstation, None
        if workstation is not None:
            try:
                self._logout(self.credentials, workstation.authkey)
            except Exception:  # noqa: BLE001 - shutting down: nothing more to do
                pass

"""The ZMS/eAppointment adapter: the subset of the ZMS HTTP API (``{"meta": ..., "data": ...}``) the robot uses.

Calls (upstream it-at-m/eappointment ``zmsbackend/routing.php``; see docs/queue_bridge.md for why):

- ``POST /workstation/login/`` and ``DELETE /workstation/login/{login}/``: the robot's workstation
  session (:mod:`~l2b2_queue_bridge.zms_session`); its key goes as ``X-Authkey`` on staff calls.
- ``GET /process/{id}/{authKey}/``: a booking, as the visitor (403 wrong authKey, 404 unknown id);
  ``GET /process/{id}/`` (upstream ``WorkstationProcessGet``) with the session for name look-ups. It
  answers 403 ``ProcessNotCallable`` for processes that are reserved, preconfirmed, deleted, called or
  processing, and 403 ``WorkstationProcessMatchScopeFailed`` for another scope's process.
- Check-in: upstream has no "arrived" call for appointments; the day's confirmed appointments are in
  the call queue from the start. ``check_in_mode='verify'`` (the default) therefore writes nothing.
  ``'status_queued'`` records the arrival time with ``POST /process/status/queued/`` (permission
  ``appointment``), which upstream uses to re-queue a missed visitor and which does not check the
  process's state: the bridge sends it only for confirmed appointments.
- ``GET /scope/{id}/waitingnumber/{hash}/?requestId=``: draws a waiting number (upstream checks neither
  the hash nor any idempotency key: a draw that may have reached the server is never repeated).
- ``GET /scope/{id}/queue/``: the scope's queue in calling order; the ``fake`` entry stands for a newcomer.
- ``GET /status/``: liveness with the session (401 without one since August 2026).

Robustness: every attempt has ``timeout_s``; idempotent reads are retried (bounded, exponential
back-off with full jitter); a circuit breaker answers at once while the system is down. A staff call
refused for a missing login renews the session and is sent once more.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
import random
import threading
import time
from typing import Any

import httpx

from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.adapter import Process, QueueEntry, QueueError, QueueSystemAdapter
from l2b2_queue_bridge.circuit_breaker import OPEN, CircuitBreaker
from l2b2_queue_bridge.zms_entities import parse_process, parse_queue
from l2b2_queue_bridge.zms_session import Credentials, LoginRefused, SessionKeeper, Workstation

CHECK_IN_MODES = ('verify', 'status_queued')
#: 401 answers that mean "this session is not logged in (any more)".
_LOGIN_MISSING = frozenset({'UserAccountMissingLogin', 'StatusAuthenticationFailed', 'AuthKeyFound', ''})
#: 404 answers that are a business answer, not an unknown resource (value: the visitor-facing code).
_NOT_FOUND_AS = {'GivenNumberCountExceeded': QueueResult.CLOSED}


class _Retryable(Exception):
    """An attempt failed in a way that says nothing about the request's effect (or it had none)."""

    def __init__(self, message: str, *, reached_server: bool):
        super().__init__(message)
        self.message = message
        self.reached_server = reached_server


class ZmsAdapter(QueueSystemAdapter):
    def __init__(self, base_url: str, *, timeout_s: float = 2.0, read_retries: int = 2, backoff_s: float = 0.1,
                 staff_auth_key: str = '', credentials: Credentials | None = None,
                 session_duration_s: float = 36000.0, renew_before_s: float = 600.0,
                 check_in_mode: str = 'verify', breaker: CircuitBreaker | None = None,
                 transport: httpx.BaseTransport | None = None, max_connections: int = 32,
                 call_budget_s: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random, probe_scope_id: int | None = None):
        if not 0 < timeout_s <= 30:
            raise ValueError('timeout_s must be in (0, 30]')
        if check_in_mode not in CHECK_IN_MODES:
            raise ValueError(f'check_in_mode must be one of {CHECK_IN_MODES}')
        self.base_url = base_url.rstrip('/') + '/'
        self.timeout_s = timeout_s
        #: Upper bound of one call including its retries (default: one attempt and a half).
        self.call_budget_s = call_budget_s if call_budget_s is not None else 1.5 * timeout_s
        self.read_retries = max(0, read_retries)
        self.backoff_s = max(0.0, backoff_s)
        #: A fixed staff key (the embedded server's demo key); a login (``credentials``) takes precedence.
        self.staff_auth_key = staff_auth_key
        self.session = SessionKeeper(credentials, self._login, self._logout, session_duration_s=session_duration_s,
                                     renew_before_s=renew_before_s) if credentials else None
        self.check_in_mode = check_in_mode
        self.probe_scope_id = probe_scope_id
        self.breaker = breaker or CircuitBreaker()
        self._sleep, self._rng = sleep, rng
        self._http = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(timeout_s), transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={'Accept': 'application/json', 'User-Agent': 'l2b2-queue-bridge'}, trust_env=False)
        self.last_error = ''
        #: Why staff calls cannot work ('' when they can): refused credentials, a missing permission.
        self.auth_problem = ''
        self._local = threading.local()  # per worker thread: the deadline of the current service call

    @contextlib.contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """All HTTP calls and retries made inside share one overall deadline (one service call's budget)."""
        self._local.deadline = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.deadline = None

    # -- the adapter calls -------------------------------------------------------------------------

    @property
    def has_staff_access(self) -> bool:
        return self.session is not None or bool(self.staff_auth_key)

    def get_process(self, process_id: int, auth_key: str | None) -> Process:
        if auth_key:
            data = self._call('GET', f'process/{int(process_id)}/{_path_safe(auth_key)}/', idempotent=True)
        else:
            data = self._call('GET', f'process/{int(process_id)}/', idempotent=True, staff=True)
        return parse_process(data)

    def mark_arrived(self, process: Process) -> Process:
        if self.check_in_mode == 'verify':
            return process
        body = {'id': process.process_id, 'authKey': process.auth_key or None,
                'queue': {'arrivalTime': int(time.time()), 'withAppointment': True}}
        # A write: never repeated blindly. QueueClient.check_in reads the booking back instead when the
        # answer was lost.
        data = self._call('POST', 'process/status/queued/', idempotent=False, staff=True, json=body)
        return parse_process(data)

    def draw_waiting_number(self, scope_id: int, printer_hash: str, request_id: str = '') -> Process:
        params = {'requestId': request_id} if request_id else None
        data = self._call('GET', f'scope/{int(scope_id)}/waitingnumber/{_path_safe(printer_hash)}/',
                          idempotent=False, params=params)
        return parse_process(data)

    def get_queue(self, scope_id: int) -> list[QueueEntry]:
        # With the session: upstream leaves out booking numbers for anonymous callers (meta.reducedData).
        data = self._call('GET', f'scope/{int(scope_id)}/queue/', idempotent=True, staff=self.has_staff_access)
        return parse_queue(data)

    def probe(self) -> None:
        """A cheap liveness call, so the breaker and health know before a visitor asks: ``GET /status/``
        with the session (a refused login shows as an auth problem); without staff access, a scope's
        public queue."""
        if self.has_staff_access or self.probe_scope_id is None:
            self._call('GET', 'status/', idempotent=True, staff=self.has_staff_access)
        else:
            self._call('GET', f'scope/{int(self.probe_scope_id)}/queue/', idempotent=True)

    def availability(self) -> tuple[bool, str]:
        if self.breaker.state == OPEN:
            return False, f'circuit open after {self.breaker.consecutive_failures} failures: {self.last_error}'
        if self.breaker.consecutive_failures:
            return True, f'last call failed: {self.last_error}'
        return True, 'ok'

    def close(self) -> None:
        """Log out (the session does not linger until it expires), then close the connections."""
        if self.session is not None:
            with contextlib.suppress(Exception):
                with self.deadline(self.timeout_s):
                    self.session.close()
        self._http.close()

    # -- the workstation session ------------------------------------------------------------------

    def _login(self, credentials: Credentials) -> Workstation:
        try:
            data = self._call('POST', 'workstation/login/', idempotent=True, login=True,
                              json={'id': credentials.login, 'password': credentials.password})
        except QueueError as exc:
            if exc.reason == 'UserAlreadyLoggedIn' and exc.data.get('authkey'):
                data = exc.data  # upstream hands over the live session (as zmsadmin uses it)
            elif exc.code in (QueueResult.FORBIDDEN, QueueResult.NOT_FOUND, QueueResult.INVALID):
                self.auth_problem = f'workstation login refused ({exc.reason or exc.code.name}): {exc.message}'[:200]
                raise LoginRefused(self.auth_problem) from None
            else:
                raise
        workstation = _workstation(data)
        if workstation is None:
            raise self._protocol_error('login answer without a workstation authkey')
        if workstation.permissions and 'appointment' not in workstation.permissions:
            self.auth_problem = 'workstation user lacks the permission "appointment"'
        else:
            self.auth_problem = ''
        return workstation

    def _logout(self, credentials: Credentials, key: str) -> None:
        self._call('DELETE', f'workstation/login/{_path_safe(credentials.login)}/', idempotent=True,
                   login=True, headers={'X-Authkey': key})

    def _staff_key(self) -> str:
        if self.session is None:
            if not self.staff_auth_key:
                raise QueueError(QueueResult.INVALID, 'no staff login configured; an auth key is required')
            return self.staff_auth_key
        try:
            return self.session.key()
        except LoginRefused as exc:
            raise QueueError(QueueResult.UNAVAILABLE, f'appointment system refused the robot\'s login: {exc}') \
                from None

    # -- transport, retries, breaker ---------------------------------------------------------------

    def _call(self, method: str, path: str, *, idempotent: bool, staff: bool = False, login: bool = False,
              json: Any = None, headers: dict[str, str] | None = None, params: dict | None = None) -> Any:
        # The session first: a login is a call of its own (through the breaker, with its own outcome).
        key = self._staff_key() if staff else ''
        overall = getattr(self._local, 'deadline', None)
        if overall is not None and overall - time.monotonic() < 0.05:  # checked before taking a breaker trial
            raise QueueError(QueueResult.UNAVAILABLE, 'appointment system too slow: no time left for this request')
        if not self.breaker.allow():
            raise QueueError(QueueResult.UNAVAILABLE, f'appointment system unavailable (circuit open, next try in '
                                                      f'{self.breaker.seconds_until_retry():.0f} s): {self.last_error}')
        try:
            if not staff:
                return self._attempts(method, path, idempotent=idempotent, json=json, headers=headers,
                                      params=params, login=login)
            try:
                return self._attempts(method, path, idempotent=idempotent, json=json, params=params,
                                      headers={**(headers or {}), 'X-Authkey': key})
            except _SessionRefused:
                if self.session is None:
                    self.auth_problem = 'staff key refused (401)'
                    raise QueueError(QueueResult.UNAVAILABLE, 'appointment system refused the staff key') from None
            try:  # the session expired or was ended by the system: log in again, send once more
                key = self.session.refused(key)
            except LoginRefused as exc:
                raise QueueError(QueueResult.UNAVAILABLE, f'appointment system refused the robot\'s login: {exc}') \
                    from None
            try:
                return self._attempts(method, path, idempotent=idempotent, json=json, params=params,
                                      headers={**(headers or {}), 'X-Authkey': key})
            except _SessionRefused:
                self.auth_problem = 'a fresh session was refused (401)'
                raise QueueError(QueueResult.UNAVAILABLE, 'appointment system refuses the robot\'s session') \
                    from None
        except QueueError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a hostile or broken answer raises
            # Every call the breaker allowed must end in a success or a failure, or a half-open
            # breaker would wait for its trial call forever.
            self.last_error = f'unexpected {type(exc).__name__}'
            self.breaker.record_failure()
            raise QueueError(QueueResult.ERROR, f'unusable answer from the appointment system ({type(exc).__name__})') \
                from None

    def _attempts(self, method: str, path: str, *, idempotent: bool, json: Any, headers: dict[str, str] | None,
                  params: dict | None = None, login: bool = False) -> Any:
        headers = dict(headers or {})
        attempts = 1 + self.read_retries
        started = time.monotonic()
        overall = getattr(self._local, 'deadline', None)
        budget = self.call_budget_s if overall is None else min(self.call_budget_s, overall - started)
        for attempt in range(attempts):
            remaining = budget - (time.monotonic() - started)
            try:
                response = self._http.request(method, path, json=json, headers=headers, params=params,
                                              timeout=max(0.01, min(self.timeout_s, remaining)))
            except httpx.ConnectError as exc:  # refused / unreachable: the request never arrived
                failure = _Retryable(f'cannot connect ({type(exc).__name__})', reached_server=False)
            except httpx.TimeoutException as exc:
                failure = _Retryable(f'no answer within {self.timeout_s:g} s ({type(exc).__name__})',
                                     reached_server=not isinstance(exc, httpx.ConnectTimeout))
            except httpx.TransportError as exc:
                failure = _Retryable(f'transport error ({type(exc).__name__})', reached_server=True)
            else:
                if response.status_code >= 500 or response.status_code == 429:
                    failure = _Retryable(f'HTTP {response.status_code}', reached_server=True)
                else:
                    return self._result(response, staff='X-Authkey' in headers and not login)
            self.last_error = failure.message
            may_retry = idempotent or not failure.reached_server
            # Exponential back-off with full jitter: retries of many clients do not arrive in lock step.
            pause = self._rng() * self.backoff_s * (2 ** attempt)
            left = budget - (time.monotonic() - started) - pause
            if attempt + 1 >= attempts or not may_retry or left < 0.05:
                break
            self._sleep(pause)
        self.breaker.record_failure()
        if not idempotent and failure.reached_server:
            raise QueueError(QueueResult.UNAVAILABLE, f'appointment system failed after the request was sent, not '
                                               f'retried to avoid a double ticket: {failure.message}')
        raise QueueError(QueueResult.UNAVAILABLE, f'appointment system unavailable: {failure.message}')

    def _result(self, response: httpx.Response, staff: bool = False) -> Any:
        """Map an HTTP answer (< 500) to data or a QueueError; the system is alive either way. Upstream names
        each error in ``meta.exception`` (a PHP class name); its last part decides the visitor answer."""
        try:
            body = response.json()
        except (ValueError, RecursionError):
            raise self._protocol_error(f'HTTP {response.status_code} with a body that is not JSON') from None
        if not isinstance(body, dict) or 'meta' not in body and 'data' not in body:
            raise self._protocol_error(f'HTTP {response.status_code} without the meta/data envelope')
        status = response.status_code
        self.breaker.record_success()
        if status < 300:
            self.last_error = ''
            if staff and self.session is None:
                self.auth_problem = ''  # the fixed staff key works (again)
            return body.get('data')
        meta = body.get('meta') if isinstance(body.get('meta'), dict) else {}
        reason = str(meta.get('exception') or '').rsplit('\\', 1)[-1][:80]
        message = str(meta.get('message') or reason or f'HTTP {status}')[:200]
        data = body.get('data') if isinstance(body.get('data'), dict) else {}
        if status == 401 and staff and reason in _LOGIN_MISSING:
            raise _SessionRefused()
        if status == 403 and reason == 'UserAccountMissingRights':
            self.auth_problem = f'workstation user lacks a permission: {message}'[:200]
            raise QueueError(QueueResult.UNAVAILABLE, 'the robot\'s workstation user lacks a permission', reason)
        if status in (401, 403):
            raise QueueError(QueueResult.FORBIDDEN, message, reason, data)
        if status == 404:
            raise QueueError(_NOT_FOUND_AS.get(reason, QueueResult.NOT_FOUND), message, reason, data)
        if status in (400, 413, 422):
            raise QueueError(QueueResult.INVALID, message, reason, data)
        raise QueueError(QueueResult.ERROR, f'HTTP {status}: {message}', reason, data)

    def _protocol_error(self, message: str) -> QueueError:
        self.breaker.record_failure()
        self.last_error = message
        return QueueError(QueueResult.ERROR, f'malformed answer from the appointment system: {message}')




class _SessionRefused(Exception):
    """A staff call was answered 401 for a missing login: the session expired or was ended."""


def _workstation(data: Any) -> Workstation | None:
    """A ZMS ``workstation`` entity -> :class:`Workstation` (permissions: current ``permissions`` or old ``rights``)."""
    if not isinstance(data, dict) or not isinstance(data.get('authkey'), str) or not data['authkey']:
        return None
    user = data.get('useraccount') if isinstance(data.get('useraccount'), dict) else {}
    granted = user.get('permissions') if isinstance(user.get('permissions'), dict) else user.get('rights')
    permissions = frozenset(k for k, v in granted.items() if v in (True, 1, '1')) if isinstance(granted, dict) \
        else frozenset()
    scope = data.get('scope') if isinstance(data.get('scope'), dict) else {}
    try:
        scope_id = int(scope['id']) if scope.get('id') not in (None, '') else None
    except (TypeError, ValueError):
        scope_id = None
    return Workstation(data['authkey'], scope_id, permissions)


def _path_safe(text: str) -> str:
    """Path segments from visitors must not change the route (no '/', '..', query or fragment)."""
    from urllib.parse import quote
    return quote(str(text), safe='')

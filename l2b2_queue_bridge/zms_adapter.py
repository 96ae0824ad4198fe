"""The ZMS/eAppointment adapter: the subset of the ZMS HTTP API (``{"meta": ..., "data": ...}``) the robot uses.

Calls (from eAppointment's ``zmsapi`` routing):

- ``GET /process/{id}/{authKey}/``: a booking, as the visitor (403 wrong authKey, 404 unknown id);
  ``GET /process/{id}/`` with the staff ``X-Authkey`` header for name-only look-ups.
- ``POST /process/status/queued/`` (staff): ZMS has no "arrived" call; check-in maps to putting the
  process into the waiting queue, as staff do at the counter (``check_in_mode='status_queued'``).
  ``check_in_mode='none'`` only confirms the booking (for sites that track arrival otherwise).
- ``GET /scope/{id}/waitingnumber/{hash}/``: draws a waiting number (a process with ``queue.number``).
- ``GET /scope/{id}/queue/``: the scope's queue; an entry with status ``fake`` is ZMS's stand-in for a
  newcomer, whose ``waitingTimeEstimate`` is the wait for a new ticket.

Robustness: every attempt has ``timeout_s``; idempotent reads are retried (bounded, exponential
back-off with full jitter); drawing a number is retried only when the request never reached the
server (connection refused) or the server honours the idempotency header (the embedded server does),
so a retry can never print a second ticket. A circuit breaker answers at once while the system is down.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
import contextlib
from datetime import datetime
import random
import threading
import time
from typing import Any

import httpx

from l2b2_queue_bridge.adapter import Code, Process, QueueEntry, QueueError, QueueSystemAdapter
from l2b2_queue_bridge.circuit_breaker import OPEN, CircuitBreaker

CHECK_IN_MODES = ('status_queued', 'none')


class _Retryable(Exception):
    """An attempt failed in a way that says nothing about the request's effect (or it had none)."""

    def __init__(self, message: str, *, reached_server: bool):
        super().__init__(message)
        self.message = message
        self.reached_server = reached_server


class ZmsAdapter(QueueSystemAdapter):
    def __init__(self, base_url: str, *, timeout_s: float = 2.0, read_retries: int = 2, backoff_s: float = 0.1,
                 staff_auth_key: str = '', idempotency_header: str = 'X-Idempotency-Key',
                 check_in_mode: str = 'status_queued', breaker: CircuitBreaker | None = None,
                 transport: httpx.BaseTransport | None = None, max_connections: int = 32,
                 call_budget_s: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 rng: Callable[[], float] = random.random):
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
        self.staff_auth_key = staff_auth_key
        self.idempotency_header = idempotency_header
        self.check_in_mode = check_in_mode
        self.breaker = breaker or CircuitBreaker()
        self._sleep, self._rng = sleep, rng
        self._http = httpx.Client(
            base_url=self.base_url, timeout=httpx.Timeout(timeout_s), transport=transport,
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={'Accept': 'application/json', 'User-Agent': 'l2b2-queue-bridge'}, trust_env=False)
        self.last_error = ''
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

    def get_process(self, process_id: int, auth_key: str | None) -> Process:
        if auth_key:
            data = self._call('GET', f'process/{int(process_id)}/{_path_safe(auth_key)}/', idempotent=True)
        else:
            data = self._call('GET', f'process/{int(process_id)}/', idempotent=True, staff=True)
        return parse_process(data)

    def mark_arrived(self, process: Process) -> Process:
        if self.check_in_mode == 'none':
            return process
        body = dict(process.raw) or {'id': process.process_id}
        body.setdefault('id', process.process_id)
        if process.auth_key:
            body.setdefault('authKey', process.auth_key)
        # A write: never repeated blindly (a second "queued" may reset the arrival time on a real ZMS).
        # QueueClient.check_in reads the booking back instead when the answer was lost.
        data = self._call('POST', 'process/status/queued/', idempotent=False, staff=True, json=body)
        return parse_process(data)

    def draw_waiting_number(self, scope_id: int, printer_hash: str, idempotency_key: str) -> Process:
        headers = {self.idempotency_header: idempotency_key} if self.idempotency_header and idempotency_key else {}
        data = self._call('GET', f'scope/{int(scope_id)}/waitingnumber/{_path_safe(printer_hash)}/',
                          idempotent=bool(headers), headers=headers)
        return parse_process(data)

    def get_queue(self, scope_id: int) -> list[QueueEntry]:
        data = self._call('GET', f'scope/{int(scope_id)}/queue/', idempotent=True)
        if not isinstance(data, list):
            raise self._protocol_error('queue list is not a JSON array')
        return [parse_queue_entry(item) for item in data]

    def probe(self) -> None:
        """A cheap liveness call (``GET /status/``), so the breaker and health know before a visitor asks."""
        self._call('GET', 'status/', idempotent=True)

    def availability(self) -> tuple[bool, str]:
        if self.breaker.state == OPEN:
            return False, f'circuit open after {self.breaker.consecutive_failures} failures: {self.last_error}'
        if self.breaker.consecutive_failures:
            return True, f'last call failed: {self.last_error}'
        return True, 'ok'

    def close(self) -> None:
        self._http.close()

    # -- transport, retries, breaker ---------------------------------------------------------------

    def _call(self, method: str, path: str, *, idempotent: bool, staff: bool = False,
              json: Any = None, headers: dict[str, str] | None = None) -> Any:
        overall = getattr(self._local, 'deadline', None)
        if overall is not None and overall - time.monotonic() < 0.05:  # checked before taking a breaker trial
            raise QueueError(Code.UNAVAILABLE, 'appointment system too slow: no time left for this request')
        if not self.breaker.allow():
            raise QueueError(Code.UNAVAILABLE, f'appointment system unavailable (circuit open, next try in '
                                               f'{self.breaker.seconds_until_retry():.0f} s): {self.last_error}')
        try:
            return self._attempts(method, path, idempotent=idempotent, staff=staff, json=json, headers=headers)
        except QueueError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a hostile or broken answer raises
            # Every call the breaker allowed must end in a success or a failure, or a half-open
            # breaker would wait for its trial call forever.
            self.last_error = f'unexpected {type(exc).__name__}'
            self.breaker.record_failure()
            raise QueueError(Code.ERROR, f'unusable answer from the appointment system ({type(exc).__name__})') \
                from None

    def _attempts(self, method: str, path: str, *, idempotent: bool, staff: bool,
                  json: Any, headers: dict[str, str] | None) -> Any:
        headers = dict(headers or {})
        if staff:
            if not self.staff_auth_key:
                self.breaker.record_success()  # nothing was wrong with the system
                raise QueueError(Code.INVALID, 'no staff key configured; an auth key is required')
            headers['X-Authkey'] = self.staff_auth_key
        attempts = 1 + self.read_retries
        started = time.monotonic()
        overall = getattr(self._local, 'deadline', None)
        budget = self.call_budget_s if overall is None else min(self.call_budget_s, overall - started)
        for attempt in range(attempts):
            remaining = budget - (time.monotonic() - started)
            try:
                response = self._http.request(method, path, json=json, headers=headers,
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
                    return self._result(response)
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
            raise QueueError(Code.UNAVAILABLE, f'appointment system failed after the request was sent, not '
                                               f'retried to avoid a double ticket: {failure.message}')
        raise QueueError(Code.UNAVAILABLE, f'appointment system unavailable: {failure.message}')

    def _result(self, response: httpx.Response) -> Any:
        """Map an HTTP answer (< 500) to data or a QueueError; the system is alive either way."""
        try:
            body = response.json()
        except (ValueError, RecursionError):
            raise self._protocol_error(f'HTTP {response.status_code} with a body that is not JSON') from None
        if not isinstance(body, dict) or 'meta' not in body and 'data' not in body:
            raise self._protocol_error(f'HTTP {response.status_code} without the meta/data envelope')
        status = response.status_code
        if status < 300:
            self.breaker.record_success()
            self.last_error = ''
            return body.get('data')
        self.breaker.record_success()
        meta = body.get('meta') if isinstance(body.get('meta'), dict) else {}
        reason = str(meta.get('message') or meta.get('exception') or f'HTTP {status}')[:200]
        if status == 403 or status == 401:
            raise QueueError(Code.FORBIDDEN, reason)
        if status == 404:
            raise QueueError(Code.NOT_FOUND, reason)
        if status in (400, 413, 422):
            raise QueueError(Code.INVALID, reason)
        raise QueueError(Code.ERROR, f'HTTP {status}: {reason}')

    def _protocol_error(self, message: str) -> QueueError:
        self.breaker.record_failure()
        self.last_error = message
        return QueueError(Code.ERROR, f'malformed answer from the appointment system: {message}')


# -- entity parsing (pure functions, shared with the contract tests) -------------------------------


def parse_process(data: Any) -> Process:
    """A ZMS ``process`` entity -> :class:`Process`; shape errors raise QueueError(ERROR)."""
    try:
        if not isinstance(data, dict):
            raise TypeError('process is not an object')
        appointments = [a for a in data.get('appointments') or [] if isinstance(a, dict)]
        scope = data.get('scope') if isinstance(data.get('scope'), dict) else {}
        scope_id = scope.get('id')
        if scope_id is None and appointments and isinstance(appointments[0].get('scope'), dict):
            scope_id = appointments[0]['scope'].get('id')
        when = None
        if appointments and appointments[0].get('date'):
            when = datetime.fromtimestamp(float(appointments[0]['date'])).astimezone()
        queue = data.get('queue') if isinstance(data.get('queue'), dict) else {}
        requests = [r for r in data.get('requests') or [] if isinstance(r, dict)]
        return Process(
            process_id=int(data['id']),
            status=str(data.get('status') or ''),
            scope_id=int(scope_id) if scope_id is not None else None,
            appointment_time=when,
            services=tuple(str(r.get('name') or r.get('id') or '') for r in requests),
            service_ids=tuple(str(r.get('id') or '') for r in requests),
            display_number=str(data.get('displayNumber') or queue.get('number') or ''),
            queue_number=str(queue.get('number') or ''),
            client_names=tuple(str(c.get('familyName') or '') for c in data.get('clients') or []
                               if isinstance(c, dict)),
            auth_key=str(data.get('authKey') or ''),
            raw=data,
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise QueueError(Code.ERROR, f'malformed process entity: {type(exc).__name__}') from None


def parse_queue_entry(item: Any) -> QueueEntry:
    """A ZMS ``queue`` entity -> :class:`QueueEntry`."""
    try:
        if not isinstance(item, dict):
            raise TypeError('queue entry is not an object')
        with_appointment = item.get('withAppointment', False)
        return QueueEntry(
            number=str(item['number']),
            status=str(item.get('status') or ''),
            arrival_time=float(item.get('arrivalTime') or 0),
            waiting_time_estimate=int(float(item.get('waitingTimeEstimate') or 0)),
            with_appointment=with_appointment in (True, 1, '1'),
            display_number=str(item.get('displayNumber') or item['number']),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise QueueError(Code.ERROR, f'malformed queue entry: {type(exc).__name__}') from None


def _path_safe(text: str) -> str:
    """Path segments from visitors must not change the route (no '/', '..', query or fragment)."""
    from urllib.parse import quote
    return quote(str(text), safe='')

"""The queue bridge's logic: what the dialogue asks (look up, check in, draw a ticket, how long is the wait)
answered with a result code and a short reason, whatever the appointment system does. No ROS import.

The adapter talks to one system; this layer adds what is the same for every system: targets from the
department catalog, input validation, the name check, the check-in time window, opening hours, and
idempotent ticket drawing (a retried request with the same key returns the same ticket).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
import hashlib
import hmac
import re
import secrets
import threading
import time
import uuid

from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.adapter import (
    ARRIVED_STATUSES,
    Process,
    QueueEntry,
    QueueError,
    QueueSystemAdapter,
)
from l2b2_queue_bridge.names import booking_words, names_match, normalise_name
from l2b2_queue_bridge.results import (
    AppointmentView,
    CheckInResult,
    LookupResult,
    QueueView,
    StatusResult,
    TargetScope,
    TicketResult,
)
from l2b2_queue_bridge.zms_entities import newcomer, position_of

_BOOKING = re.compile(r'^[0-9]{4,11}$')
_AUTH_KEY = re.compile(r'^[A-Za-z0-9_\-]{1,64}$')
_INACTIVE = frozenset({'free', 'deleted', 'finished', 'archived', 'anonymized', 'blocked', 'conflict'})
_UNCONFIRMED = frozenset({'reserved', 'preconfirmed'})
#: Upstream's ProcessNotCallable statuses that mean the visitor is already being served.
_CALLED = frozenset({'called', 'processing'})


class QueueClient:
    """Thread-safe: the ROS node calls it from a pool of worker threads."""

    def __init__(self, adapter: QueueSystemAdapter, targets: dict[str, TargetScope], *,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 early_minutes: float = 60.0, late_minutes: float = 15.0, enforce_opening_hours: bool = True,
                 service_ids: dict[str, str] | None = None, status_cache_s: float = 2.0,
                 ticket_memory_s: float = 4 * 3600.0, verified_s: float = 600.0, monotonic: Callable[[], float] = time.monotonic):
        self.adapter = adapter
        self.targets = dict(targets)
        #: the system's service (request) id -> catalog service id
        self._service_ids = dict(service_ids or {})
        self._by_scope = {t.scope_id: t.target_id for t in targets.values() if t.scope_id is not None}
        self._now = now
        self.early_minutes = early_minutes
        self.late_minutes = late_minutes
        self.enforce_opening_hours = enforce_opening_hours
        self._ticket_memory_s = ticket_memory_s
        self._monotonic = monotonic
        self._tickets: dict[str, tuple[float, TicketResult]] = {}
        #: Bookings this robot checked in (the system may not show it): booking -> monotonic expiry.
        self._checked_in: dict[str, float] = {}
        #: scope id -> (monotonic expiry, entries): status polls of panels do not each hit the system.
        self._queues: dict[int, tuple[float, list[QueueEntry]]] = {}
        self.status_cache_s = status_cache_s
        #: Bookings whose name was confirmed in a look-up: booking -> monotonic expiry.
        self._verified: dict[str, float] = {}
        self.verified_s = verified_s
        #: Salted hashes of (booking, surname) for the bookings this robot checked in -> monotonic expiry. Once
        #: staff call the visitor, upstream hides the booking's name; these let the rightful holder still hear
        #: "already checked in" while anyone else hears what an unknown number gets (no oracle).
        self._called_names: dict[str, float] = {}
        self._salt = secrets.token_bytes(16)
        self._key_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    # -- look-up and check-in ----------------------------------------------------------------------

    def lookup(self, booking_number: str, auth_key: str = '', name: str = '') -> LookupResult:
        try:
            process = self._find(booking_number, auth_key, name)
        except QueueError as exc:
            if exc.reason == 'ProcessNotCallable' and str(exc.data.get('status')) in _CALLED:
                # Upstream hides a process already called or in processing, name included: only the key or
                # the name this robot checked it in with proves it; the check-in that follows answers
                # "already checked in". Anyone else hears what an unknown number gets.
                number = re.sub(r'\s+', '', booking_number).lstrip('0')
                if not (auth_key or self._knows_name(number, name)):
                    return LookupResult(*_UNKNOWN)
                self._remember_verified(number)
                view = AppointmentView(number, str(exc.data['status']), '', '', 0, (), number)
                return LookupResult(QueueResult.OK, 'already called (ProcessNotCallable)', view)
            code, message = _lookup_answer(exc)
            return LookupResult(code, message)
        if process.scope_id not in self._by_scope and self._by_scope:
            return LookupResult(QueueResult.ERROR, 'booking is for a scope this office does not serve',
                                self._view(process))
        if name.strip() and not auth_key:
            self._remember_verified(str(process.process_id))
        return LookupResult(QueueResult.OK, f'booking found, status {process.status}', self._view(process))

    def check_in(self, booking_number: str, auth_key: str = '', name: str = '') -> CheckInResult:
        """Without auth key and name, a booking verified by name in a look-up shortly before may check in.

        Upstream's way: the day's confirmed appointments are in the call queue from the start, so a valid
        booking of today at this office is "checked in" by telling the visitor their place; the adapter
        writes only in ``status_queued`` mode. A second check-in of the same booking is answered "already
        checked in" from the robot's own memory."""
        try:
            process = self._find(booking_number, auth_key, name, allow_verified=True)
        except QueueError as exc:
            if exc.reason == 'ProcessNotCallable':
                status = str(exc.data.get('status') or '')
                if status in _CALLED:
                    number = re.sub(r'\s+', '', booking_number or '').lstrip('0')
                    if not (auth_key or self._knows_name(number, name)
                            or (not name.strip() and self._is_verified(number))):
                        return CheckInResult(*_UNKNOWN)
                    return CheckInResult(QueueResult.ALREADY_CHECKED_IN, f'already called (status {status})')
                return CheckInResult(QueueResult.NOT_FOUND if status == 'deleted' else QueueResult.INVALID,
                                     f'booking cannot be called (status {status or "unknown"})')
            if exc.reason == 'WorkstationProcessMatchScopeFailed':
                return CheckInResult(QueueResult.FORBIDDEN, 'booking is for a scope this workstation does not serve')
            return CheckInResult(exc.code, exc.message)
        view = self._view(process)
        status = process.status
        if self._by_scope and process.scope_id not in self._by_scope:
            return CheckInResult(QueueResult.FORBIDDEN, 'booking is for a scope this office does not serve', view)
        if status in ARRIVED_STATUSES or self._was_checked_in(str(process.process_id)):
            self._remember_names(str(process.process_id), process.client_names)
            position, wait = self._position(process)
            return CheckInResult(QueueResult.ALREADY_CHECKED_IN, f'already checked in (status {status})', view,
                                 position, wait)
        if status == 'missed':
            return CheckInResult(QueueResult.TOO_LATE, 'booking was marked missed', view)
        if status in _INACTIVE:
            return CheckInResult(QueueResult.NOT_FOUND, f'booking is not active (status {status})', view)
        if status in _UNCONFIRMED:
            return CheckInResult(QueueResult.INVALID, f'booking is not confirmed (status {status})', view)
        if process.appointment_time is None:
            return CheckInResult(QueueResult.INVALID, 'not an appointment (a waiting number)', view)
        minutes = (process.appointment_time - self._now()).total_seconds() / 60.0
        if minutes > self.early_minutes:
            return CheckInResult(QueueResult.TOO_EARLY, f'appointment is in {minutes:.0f} min; check-in opens '
                                                        f'{self.early_minutes:.0f} min before', view)
        if -minutes > self.late_minutes:
            return CheckInResult(QueueResult.TOO_LATE, f'appointment was {-minutes:.0f} min ago; late limit is '
                                                       f'{self.late_minutes:.0f} min', view)
        try:
            updated = self.adapter.mark_arrived(process)
        except QueueError as exc:
            updated = self._arrived_anyway(process) if exc.code == QueueResult.UNAVAILABLE else None
            if updated is None:
                return CheckInResult(exc.code, f'check-in failed: {exc.message}', view)
        self._remember_checked_in(str(process.process_id))
        self._remember_names(str(process.process_id), process.client_names)
        position, wait = self._position(updated)
        return CheckInResult(QueueResult.OK, 'checked in', self._view(updated), position, wait)

    def _arrived_anyway(self, process: Process) -> Process | None:
        """The check-in's answer was lost: read the booking (a safe, retried read) instead of writing twice."""
        try:
            current = self.adapter.get_process(process.process_id, process.auth_key or None)
        except QueueError:
            return None
        return current if current.status in ARRIVED_STATUSES else None

    # -- tickets -----------------------------------------------------------------------------------

    def draw_ticket(self, target_id: str, idempotency_key: str = '') -> TicketResult:
        target = self.targets.get(target_id)
        if target is None:
            return TicketResult(QueueResult.NOT_FOUND, f'unknown target "{target_id[:40]}"')
        if target.scope_id is None or not target.printer_hash:
            return TicketResult(QueueResult.NOT_FOUND, f'target "{target_id}" has no waiting queue')
        if self.enforce_opening_hours and not target.is_open(self._now()):
            return TicketResult(QueueResult.CLOSED, f'target "{target_id}" is closed now')
        if len(idempotency_key) > 128:
            return TicketResult(QueueResult.INVALID, 'idempotency_key longer than 128 characters')
        key = f'{target_id}:{idempotency_key or uuid.uuid4().hex}'
        with self._lock_for(key):
            cached = self._remembered(key)
            if cached is not None:
                return cached
            try:
                process = self.adapter.draw_waiting_number(target.scope_id, target.printer_hash)
            except QueueError as exc:
                if exc.reason == 'GivenNumberCountExceeded':
                    return TicketResult(QueueResult.CLOSED, 'no waiting numbers left today (GivenNumberCountExceeded)')
                if exc.reason == 'RequestNotFound':
                    return TicketResult(QueueResult.NOT_FOUND, 'service not offered at this scope (RequestNotFound)')
                return TicketResult(exc.code, f'no ticket: {exc.message}')
            ahead, wait = self._ticket_place(process)
            result = TicketResult(QueueResult.OK, 'ticket drawn', process.display_number or process.queue_number,
                                  ahead, wait)
            self._remember(key, result)
            return result

    # -- queue status ------------------------------------------------------------------------------

    def queue_status(self, target_id: str = '') -> StatusResult:
        if target_id:
            target = self.targets.get(target_id)
            if target is None:
                return StatusResult(QueueResult.NOT_FOUND, f'unknown target "{target_id[:40]}"')
            if target.scope_id is None:
                return StatusResult(QueueResult.NOT_FOUND, f'target "{target_id}" has no waiting queue')
            wanted = [target]
        else:
            wanted = [t for t in self.targets.values() if t.scope_id is not None]
        views, failure = [], None
        for target in wanted:
            if failure is not None and failure.code == QueueResult.UNAVAILABLE:
                views.append(QueueView(target.target_id, target.scope_id, False))  # do not wait again
                continue
            try:
                entries = self._queue(target.scope_id, cached=True)
            except QueueError as exc:
                failure = exc
                views.append(QueueView(target.target_id, target.scope_id, False))
                continue
            ahead, wait = newcomer(entries)
            views.append(QueueView(target.target_id, target.scope_id, True, ahead, wait))
        if failure is None:
            return StatusResult(QueueResult.OK, f'{len(views)} queue(s)', tuple(views))
        if any(v.available for v in views):
            return StatusResult(QueueResult.OK, f'partial: {failure.message}', tuple(views))
        return StatusResult(failure.code, failure.message, tuple(views))

    def availability(self) -> tuple[bool, str]:
        return self.adapter.availability()

    def probe(self) -> tuple[bool, str]:
        """Ask the system whether it is there (bounded by the adapter's timeouts); never raises."""
        try:
            self.adapter.probe()
        except QueueError:
            pass
        return self.adapter.availability()

    # -- helpers -----------------------------------------------------------------------------------

    def _find(self, booking_number: str, auth_key: str, name: str, allow_verified: bool = False) -> Process:
        number = re.sub(r'\s+', '', booking_number or '')
        if not _BOOKING.match(number):
            raise QueueError(QueueResult.INVALID, 'booking number must be 4 to 11 digits')
        if auth_key and not _AUTH_KEY.match(auth_key):
            raise QueueError(QueueResult.INVALID, 'auth key has invalid characters or length')
        if len(name) > 200:
            raise QueueError(QueueResult.INVALID, 'name longer than 200 characters')
        verified = allow_verified and not auth_key and not name.strip() and self._is_verified(number.lstrip('0'))
        if not auth_key and not name.strip() and not verified:
            raise QueueError(QueueResult.INVALID, 'an auth key or the name on the booking is required')
        process = self.adapter.get_process(int(number), auth_key or None)
        if name.strip() and not names_match(name, process.client_names):
            raise QueueError(QueueResult.FORBIDDEN, 'name does not match the booking')
        return process

    def _view(self, process: Process) -> AppointmentView:
        return AppointmentView(
            booking_number=str(process.process_id),
            status=process.status,
            appointment_time=process.appointment_time.isoformat(timespec='minutes') if process.appointment_time
            else '',
            target_id=self._by_scope.get(process.scope_id, ''),
            scope_id=process.scope_id or 0,
            services=tuple(self._service_ids.get(rid, name) for rid, name in
                           zip(process.service_ids or process.services, process.services, strict=False)),
            display_number=process.display_number,
        )

    def _position(self, process: Process) -> tuple[int, int]:
        """(1-based place, estimated minutes) counted like upstream's ticket printer; (-1, -1) when the
        queue cannot be read, (-1, newcomer's wait) when the process is not in it."""
        if process.scope_id is None:
            return -1, -1
        try:
            entries = self._queue(process.scope_id, cached=False)
        except QueueError:
            return -1, -1
        place = position_of(entries, {process.queue_number, str(process.process_id)} - {''})
        return place if place is not None else (-1, newcomer(entries)[1])

    def _ticket_place(self, process: Process) -> tuple[int, int]:
        """(people ahead, minutes) as upstream's ticket printer prints them after a draw; (-1, -1) unknown."""
        if process.scope_id is None:
            return -1, -1
        try:
            entries = self._queue(process.scope_id, cached=False)
        except QueueError:
            return -1, -1
        return newcomer(entries, exclude={process.queue_number, str(process.process_id)} - {''})

    def _queue(self, scope_id: int, cached: bool) -> list[QueueEntry]:
        """The scope's queue; ``cached`` accepts one read up to ``status_cache_s`` old. A fresh read is kept."""
        now = self._monotonic()
        if cached:
            with self._lock:
                item = self._queues.get(scope_id)
            if item is not None and item[0] > now:
                return item[1]
        entries = self.adapter.get_queue(scope_id)
        with self._lock:
            self._queues[scope_id] = (now + self.status_cache_s, entries)
        return entries

    def _keep(self, table: dict[str, float], booking: str, keep_s: float) -> None:
        """Keep ``booking`` in ``table`` for ``keep_s``, forgetting the entries that have expired."""
        with self._lock:
            now = self._monotonic()
            for old in [k for k, expiry in table.items() if expiry <= now]:
                del table[old]
            table[booking] = now + keep_s

    def _remember_verified(self, booking: str) -> None:
        self._keep(self._verified, booking, self.verified_s)

    def _remember_checked_in(self, booking: str) -> None:
        self._keep(self._checked_in, booking, self._ticket_memory_s)

    def _name_key(self, booking: str, surname: str) -> str:
        return hmac.new(self._salt, f'{booking}\n{surname}'.encode(), hashlib.sha256).hexdigest()

    def _remember_names(self, booking: str, client_names: tuple[str, ...]) -> None:
        """Keep (salted, hashed) every surname form :func:`names_match` accepts for this booking."""
        for name in client_names:
            words = booking_words(name)
            for k in range(1, len(words) + 1):
                self._keep(self._called_names, self._name_key(booking, ''.join(words[-k:])), self._ticket_memory_s)

    def _knows_name(self, booking: str, given: str) -> bool:
        """The name given matches, as :func:`names_match` would, a booking this robot checked in."""
        wanted = normalise_name(given).split()
        if not wanted:
            return False
        keys = {self._name_key(booking, wanted[-1]), self._name_key(booking, ''.join(wanted))}
        with self._lock:
            now = self._monotonic()
            return any(self._called_names.get(key, 0.0) > now for key in keys)

    def _was_checked_in(self, booking: str) -> bool:
        with self._lock:
            return self._checked_in.get(booking, 0.0) > self._monotonic()

    def _is_verified(self, booking: str) -> bool:
        with self._lock:
            return self._verified.get(booking, 0.0) > self._monotonic()

    def _lock_for(self, key: str) -> threading.Lock:
        with self._lock:
            return self._key_locks.setdefault(key, threading.Lock())

    def _remembered(self, key: str) -> TicketResult | None:
        with self._lock:
            item = self._tickets.get(key)
            return item[1] if item and item[0] > self._monotonic() else None

    def _remember(self, key: str, result: TicketResult) -> None:
        with self._lock:
            now = self._monotonic()
            for old in [k for k, (expiry, _r) in self._tickets.items() if expiry <= now]:
                self._tickets.pop(old, None)
                self._key_locks.pop(old, None)
            self._tickets[key] = (now + self._ticket_memory_s, result)


#: What an unknown booking number gets from upstream: also the answer for a called booking nobody proved.
_UNKNOWN = (QueueResult.NOT_FOUND, 'Zu den angegebenen Daten konnte kein Termin gefunden werden.')


def _lookup_answer(exc: QueueError) -> tuple[QueueResult, str]:
    """A failed look-up as the dialogue answers it: FORBIDDEN asks for the name again, NOT_FOUND for the
    number, ERROR sends the visitor to the info desk."""
    if exc.reason == 'ProcessNotCallable':
        return QueueResult.ERROR, f'booking cannot be called (status {exc.data.get("status") or "unknown"})'
    if exc.reason == 'WorkstationProcessMatchScopeFailed':
        return QueueResult.ERROR, 'booking is for a scope this workstation does not serve'
    return exc.code, exc.message

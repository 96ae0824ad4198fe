"""Reading ZMS entities, and counting a queue as upstream's ticket printer does. Pure functions, no I/O.

Shapes seen from real servers: collections (queue lists, a process's ``requests``, ``appointments``,
``clients``) come as JSON lists or, from older servers and some current routes, as objects keyed
``"0"``, ``"1"``, ...; ids and counters come as numbers or digit strings; older servers leave a queue
entry's ``status`` empty for appointments. All are read alike and none counts as a system failure.

A walk-in's ``appointments[0].date`` is the day's midnight (upstream's ticket printer writes it so): it
is not an appointment time.

Counting (upstream ``zmsticketprinter`` ``QueueListHelper``): of the scope's queue list (already in
calling order with estimates, see ``QueueList::withEstimatedWaitingTime``), the entries with status
``confirmed``, ``queued``, ``reserved`` or ``fake`` are kept; the people ahead of a newcomer are those
before the ``fake`` entry, and the newcomer's wait is the ``fake`` entry's ``waitingTimeEstimate``.
So the day's confirmed appointments count, not only the walk-ins already waiting.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.adapter import Process, QueueEntry, QueueError

#: Queue entries that stand for someone to be called before a newcomer (upstream ticket printer);
#: '' is an appointment of an older server that sends no status.
COUNTED_STATUSES = frozenset({'confirmed', 'queued', 'reserved', ''})


def items(value: Any, what: str) -> list:
    """A ZMS collection as a list: a JSON list, or an object keyed "0", "1", ... (in key order)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        try:
            return [value[k] for k in sorted(value, key=int)]
        except (TypeError, ValueError):
            raise TypeError(f'{what} is an object without numeric keys') from None
    raise TypeError(f'{what} is neither a list nor an object')


def _appointment_time(appointments: list[dict]) -> datetime | None:
    if not appointments or not appointments[0].get('date'):
        return None
    when = datetime.fromtimestamp(float(appointments[0]['date'])).astimezone()
    if (when.hour, when.minute, when.second) == (0, 0, 0):
        return None  # a walk-in: upstream dates it at midnight of the day
    return when


def parse_process(data: Any) -> Process:
    """A ZMS ``process`` entity -> :class:`Process`; shape errors raise QueueError(ERROR)."""
    try:
        if not isinstance(data, dict):
            raise TypeError('process is not an object')
        appointments = [a for a in items(data.get('appointments'), 'appointments') if isinstance(a, dict)]
        scope = data.get('scope') if isinstance(data.get('scope'), dict) else {}
        scope_id = scope.get('id')
        if scope_id is None and appointments and isinstance(appointments[0].get('scope'), dict):
            scope_id = appointments[0]['scope'].get('id')
        queue = data.get('queue') if isinstance(data.get('queue'), dict) else {}
        requests = [r for r in items(data.get('requests'), 'requests') if isinstance(r, dict)]
        clients = [c for c in items(data.get('clients'), 'clients') if isinstance(c, dict)]
        return Process(
            process_id=int(data['id']),
            status=str(data.get('status') or ''),
            scope_id=int(scope_id) if scope_id not in (None, '') else None,
            appointment_time=_appointment_time(appointments),
            services=tuple(str(r.get('name') or r.get('id') or '') for r in requests),
            service_ids=tuple(str(r.get('id') or '') for r in requests),
            display_number=str(data.get('displayNumber') or queue.get('number') or ''),
            queue_number=str(queue.get('number') or ''),
            client_names=tuple(str(c.get('familyName') or '') for c in clients),
            auth_key=str(data.get('authKey') or ''),
            raw=data,
        )
    except (KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
        raise QueueError(QueueResult.ERROR, f'malformed process entity: {type(exc).__name__}') from None


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
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise QueueError(QueueResult.ERROR, f'malformed queue entry: {type(exc).__name__}') from None


def parse_queue(data: Any) -> list[QueueEntry]:
    try:
        return [parse_queue_entry(item) for item in items(data, 'queue list')]
    except TypeError as exc:
        raise QueueError(QueueResult.ERROR, f'malformed queue list: {exc}') from None


def newcomer(entries: list[QueueEntry], exclude: set[str] = frozenset()) -> tuple[int, int]:
    """(people ahead, estimated minutes) for a newcomer, as upstream's ticket printer counts them.
    ``exclude``: queue numbers not to count (the ticket just drawn)."""
    counted = [e for e in entries if (e.status in COUNTED_STATUSES or e.status == 'fake')
               and e.number not in exclude]
    for i, entry in enumerate(counted):
        if entry.status == 'fake':
            return i, entry.waiting_time_estimate
    if not counted:
        return 0, 0
    return len(counted), counted[-1].waiting_time_estimate


def position_of(entries: list[QueueEntry], numbers: set[str]) -> tuple[int, int] | None:
    """(1-based place, estimated minutes) of the entry with one of ``numbers``, counted like a newcomer."""
    counted = [e for e in entries if e.status in COUNTED_STATUSES or e.number in numbers]
    for i, entry in enumerate(counted):
        if entry.number in numbers:
            return i + 1, entry.waiting_time_estimate
    return None

"""ZMS entities of the embedded appointment server, shaped like upstream's ``zmsentities/schema``.

Every process carries a full ``scope`` (with the required ``provider`` and ``shortName``) also inside
``appointments[]``; a walk-in's ``appointments[0].date`` is the day's midnight, as upstream's ticket
printer writes it. The queue list and its waiting-time estimates follow upstream's
``QueueList::withEstimatedWaitingTime``: the day's confirmed appointments are in the queue from the
start (at their appointment time), walk-ins are slotted in between by arrival, and a final ``fake``
entry (number -1) stands for a newcomer.
"""
from __future__ import annotations

from datetime import datetime
import math
from typing import Any

from l2b2_queue_bridge.server_db import AppointmentDb, ProcessRow, ScopeRow

#: Upstream's QueueList status groups.
STATUS_IGNORE = ('called', 'processing', 'missed', 'parked')
STATUS_APPEND = ('missed', 'parked')
STATUS_CALLED = ('called', 'processing')
FAKE_NUMBER = -1


def scope_entity(scope: ScopeRow) -> dict[str, Any]:
    return {'id': scope.id, 'shortName': scope.short_name, 'source': 'l2b2',
            'provider': {'id': scope.id, 'name': scope.short_name, 'source': 'l2b2'},
            'preferences': {'queue': {'firstNumber': scope.first_number, 'lastNumber': scope.last_number,
                                      'processingTimeAverage': scope.processing_minutes}}}


def _midnight(ts: int) -> int:
    day = datetime.fromtimestamp(ts).astimezone()
    return int(day.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def queue_entity(p: ProcessRow, now: int) -> dict[str, Any]:
    """Upstream's queue ``arrivalTime``: the appointment time for appointments (an arrival does not move
    them), the arrival for walk-ins."""
    arrival = p.appointment_ts if p.appointment_ts is not None else (p.arrival_ts or now)
    return {'arrivalTime': arrival, 'number': p.queue_number, 'displayNumber': p.display_number,
            'status': p.status, 'withAppointment': p.with_appointment,
            'waitingTime': max(0, (now - arrival) // 60) if now > arrival else 0,
            'waitingTimeEstimate': 0, 'waitingTimeOptimistic': 0,
            'callCount': 0, 'callTime': 0, 'lastCallTime': 0, 'destination': None, 'destinationHint': None}


def process_entity(p: ProcessRow, scope: ScopeRow, now: int) -> dict[str, Any]:
    scope_data = scope_entity(scope)
    date = p.appointment_ts if p.appointment_ts is not None else _midnight(p.created_ts)
    return {
        'id': p.id, 'authKey': p.auth_key or None, 'status': p.status, 'displayNumber': p.display_number,
        'createTimestamp': p.created_ts, 'lastChange': p.last_change_ts,
        'appointments': [{'date': date, 'scope': scope_data, 'slotCount': 1 if p.with_appointment else 0}],
        'scope': scope_data,
        'requests': [{'id': rid, 'name': name, 'source': 'l2b2'} for rid, name in p.services],
        'clients': [{'familyName': p.client_name, 'email': '', 'telephone': ''}] if p.client_name else [],
        'queue': queue_entity(p, now),
    }


def _sort_key(entry: dict) -> tuple:
    """Upstream's order (priority, arrival, number), except that the newcomer stand-in comes after
    everyone who arrived in the same second (upstream's number -1 would sort it first)."""
    priority = 2 if entry['withAppointment'] else 3
    return priority, entry['arrivalTime'], entry['status'] == 'fake', entry['number']


def estimated_queue(entries: list[dict], processing_minutes: float, workstations: int, now: int,
                    with_fake: bool = True) -> list[dict]:
    """Upstream's ``withEstimatedWaitingTime`` (without custom priorities): called entries first, then
    appointments when due and walk-ins by arrival, with estimates; missed and parked at the end."""
    called = [e for e in entries if e['status'] in STATUS_CALLED]
    append = [e for e in entries if e['status'] in STATUS_APPEND]
    full = [e for e in entries if e['status'] not in STATUS_IGNORE]
    if with_fake:
        full.append({'arrivalTime': now, 'number': FAKE_NUMBER, 'displayNumber': '', 'status': 'fake',
                     'withAppointment': False, 'waitingTime': 0, 'waitingTimeEstimate': 0,
                     'waitingTimeOptimistic': 0, 'callCount': 0, 'callTime': 0, 'lastCallTime': 0,
                     'destination': str(processing_minutes), 'destinationHint': str(workstations)})
    with_appt = sorted((e for e in full if e['withAppointment']), key=_sort_key)
    walk_ins = sorted((e for e in full if not e['withAppointment']), key=_sort_key)
    out = list(called)
    slot = processing_minutes * 60 / workstations if workstations else processing_minutes * 60
    current, optimistic, pessimistic = now + 120, float(now), float(now) + slot
    waiting, waiting_opt = 0, 0
    waiting_pes = math.floor((pessimistic - now) / 60)
    skip = math.ceil(workstations * 1.0)
    ai = wi = 0
    while ai < len(with_appt) or wi < len(walk_ins):
        appt = with_appt[ai] if ai < len(with_appt) else None
        walk = walk_ins[wi] if wi < len(walk_ins) else None
        if appt is not None and current >= appt['arrivalTime']:
            appt['waitingTimeEstimate'] = waiting + 1
            appt['waitingTimeOptimistic'] = math.floor((appt['arrivalTime'] - now) / 60)
            if optimistic >= appt['arrivalTime']:
                appt['waitingTimeOptimistic'], appt['waitingTimeEstimate'] = waiting_opt, waiting_pes
            out.append(appt)
            ai += 1
        elif walk is not None:
            walk['waitingTimeEstimate'], walk['waitingTimeOptimistic'] = waiting_pes, waiting_opt
            out.append(walk)
            wi += 1
        # else: only appointments later than this slot are left; time moves on until they are due.
        skip -= 1
        optimistic += 0 if skip > 0 else slot * 0.8
        pessimistic += slot
        current += slot
        waiting = math.ceil((current - now) / 60)
        waiting_opt = math.floor((optimistic - now) / 60)
        waiting_pes = math.floor((pessimistic - now) / 60)
    return out + append


def queue_list(db: AppointmentDb, scope: ScopeRow, now: int, *, reduced: bool = False) -> list[dict[str, Any]]:
    """The scope's queue as ``GET /scope/{id}/queue/`` answers it. ``reduced`` (no staff session): the
    booking numbers of appointments are left out, like upstream's ``meta.reducedData`` answer."""
    entries = [queue_entity(p, now) for p in db.queue(scope.id, now)]
    out = estimated_queue(entries, scope.processing_minutes, scope.workstations, now)
    if reduced:
        for entry in out:
            if entry['withAppointment']:
                entry['number'], entry['displayNumber'] = 0, ''
    return out

"""Demo data for the embedded appointment server: the four demo bookings and a day of other bookings.

Appointment times are relative to the server's start, so the demo works any day at any hour:
booking 4711 (pass_ausweis), 4712 (meldestelle), 4713 (auslaenderbehoerde) and 4714 (standesamt),
each with authKey ``demo``. They are refreshed on a later start once their time has passed, so a
demo after a break starts fresh while a quick restart keeps what happened.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import random

from l2b2_queue_bridge.server_db import TICKET_ID_BASE, AppointmentDb, ProcessRow, ScopeRow


@dataclass(frozen=True)
class DemoBooking:
    process_id: int
    target_id: str
    client_name: str
    #: Catalog service id; its ZMS request id and name come from the catalog when it has them.
    service_id: str
    service_name: str
    minutes_after_start: int
    auth_key: str = 'demo'


DEMO_BOOKINGS = (
    DemoBooking(4711, 'pass_ausweis', 'Erika Mustermann', 'personalausweis', 'Personalausweis - Beantragung', 10),
    DemoBooking(4712, 'meldestelle', 'Ayşe Yılmaz', 'anmeldung', 'Anmeldung einer Wohnung', 15),
    DemoBooking(4713, 'auslaenderbehoerde', 'Mehmet Öztürk', 'aufenthaltserlaubnis',
                'Aufenthaltserlaubnis - Verlängerung', 20),
    DemoBooking(4714, 'standesamt', 'Max Mustermann', 'urkunden', 'Personenstandsurkunden', 30),
)

_GIVEN = ('Anna', 'Lukas', 'Fatma', 'Emre', 'Sophie', 'Jonas', 'Elif', 'Can', 'Marie', 'Paul', 'Zeynep',
          'Ali', 'Lea', 'Felix', 'Hatice', 'Yusuf', 'Hannah', 'Leon', 'Merve', 'Ben')
_FAMILY = ('Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Becker',
           'Hoffmann', 'Koch', 'Yıldız', 'Arslan', 'Wagner', 'Doğan', 'Richter', 'Klein', 'Aydın', 'Wolf')
#: Seeded bookings get ids from here up.
BOOKING_ID_BASE = 100000


Request = tuple[str, str]  # (ZMS request id, name)


def seed_day(db: AppointmentDb, scopes: dict[int, tuple[Request, ...]], start: datetime, *,
             rng_seed: int = 4711, slot_minutes: int = 20, hours_before: int = 2, hours_after: int = 6) -> int:
    """Seed once per day: bookings every ``slot_minutes`` per scope from ``hours_before`` before start
    to ``hours_after`` after. Past ones are finished or missed, the last half hour's are waiting (queued),
    later ones confirmed. ``scopes``: scope id -> its services (request id, name). Returns bookings added."""
    day = start.date().isoformat()
    if db.get_meta('seeded_day') == day:
        return 0
    rng = random.Random(f'{rng_seed}-{day}')
    now = int(start.timestamp())
    first = start.replace(second=0, microsecond=0) - timedelta(hours=hours_before)
    first -= timedelta(minutes=first.minute % slot_minutes)
    count = 0
    with db.write() as conn:
        last = conn.execute('SELECT MAX(id) FROM processes WHERE id >= ? AND id < ?',
                            (BOOKING_ID_BASE, TICKET_ID_BASE)).fetchone()[0]
        next_id = (last or BOOKING_ID_BASE - 1) + 1
        for scope_id, services in sorted(scopes.items()):
            when = first
            while when <= start + timedelta(hours=hours_after):
                ts = int(when.timestamp())
                if rng.random() < 0.7:  # not every slot is booked
                    age_min = (now - ts) / 60
                    status = ('finished' if rng.random() < 0.85 else 'missed') if age_min > 30 else (
                        'queued' if age_min >= 0 else 'confirmed')
                    db.insert_process(conn, ProcessRow(
                        id=next_id, scope_id=scope_id, auth_key=f'{rng.getrandbits(24):06x}', status=status,
                        appointment_ts=ts, arrival_ts=ts if status == 'queued' else None, queue_number=next_id,
                        display_number=str(next_id), with_appointment=True,
                        client_name=f'{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}',
                        services=(rng.choice(services),) if services else (), created_ts=now - 86400,
                        last_change_ts=now, demo=False))
                    next_id += 1
                    count += 1
                when += timedelta(minutes=slot_minutes)
        db.set_meta(conn, 'seeded_day', day)
    return count


def refresh_demo_bookings(db: AppointmentDb, scope_by_target: dict[str, int], start: datetime,
                          stale_after_minutes: int = 5, requests: dict[str, Request] | None = None) -> list[int]:
    """(Re)create the demo bookings for targets that have a scope; keep those still current. Returns ids set.
    ``requests``: catalog service id -> (ZMS request id, name)."""
    requests = requests or {}
    now = int(start.timestamp())
    current = {p.id: p for p in db.demo_processes()}
    refreshed = []
    with db.write() as conn:
        for demo in DEMO_BOOKINGS:
            scope_id = scope_by_target.get(demo.target_id)
            if scope_id is None:
                continue
            old = current.get(demo.process_id)
            if old is not None and old.scope_id == scope_id and old.appointment_ts is not None and \
                    old.appointment_ts >= now - stale_after_minutes * 60:
                continue
            ts = int((start + timedelta(minutes=demo.minutes_after_start)).replace(second=0).timestamp())
            db.insert_process(conn, ProcessRow(
                id=demo.process_id, scope_id=scope_id, auth_key=demo.auth_key, status='confirmed',
                appointment_ts=ts, arrival_ts=None, queue_number=demo.process_id,
                display_number=str(demo.process_id), with_appointment=True, client_name=demo.client_name,
                services=(requests.get(demo.service_id, (demo.service_id, demo.service_name)),), created_ts=now, last_change_ts=now, demo=True))
            refreshed.append(demo.process_id)
    return refreshed


def scope_rows(catalog, defaults: dict) -> list[ScopeRow]:
    """Scopes of the catalog's targets that have an appointment scope and a ticket printer."""
    rows = []
    for target in catalog.targets.values():
        if target.scope_id is None or not target.printer_hash:
            continue
        rows.append(ScopeRow(id=target.scope_id, short_name=target.display_name('de'),
                             printer_hash=target.printer_hash, first_number=defaults['first_number'],
                             last_number=defaults['last_number'],
                             processing_minutes=defaults['processing_minutes'],
                             workstations=defaults['workstations']))
    return rows

"""SQLite storage of the embedded appointment server: scopes, processes (bookings and tickets), counters.

One connection per thread, WAL mode (readers never wait for the writer), every write in a
``BEGIN IMMEDIATE`` transaction so concurrent ticket draws get unique, gap-free numbers and a crash
never leaves half a ticket. A process-wide lock in front of the writes keeps threads from busy-waiting
on SQLite's lock; SQLite's own locking still protects against a second server process on the same file.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
import json
from pathlib import Path
import secrets
import sqlite3
import threading

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scopes (
    id INTEGER PRIMARY KEY,
    short_name TEXT NOT NULL,
    printer_hash TEXT NOT NULL,
    first_number INTEGER NOT NULL DEFAULT 1,
    last_number INTEGER NOT NULL DEFAULT 999,
    processing_minutes INTEGER NOT NULL DEFAULT 10,
    workstations INTEGER NOT NULL DEFAULT 2
);
CREATE TABLE IF NOT EXISTS processes (
    id INTEGER PRIMARY KEY,
    scope_id INTEGER NOT NULL REFERENCES scopes(id),
    auth_key TEXT NOT NULL,
    status TEXT NOT NULL,
    appointment_ts INTEGER,
    arrival_ts INTEGER,
    queue_number INTEGER NOT NULL,
    display_number TEXT NOT NULL,
    with_appointment INTEGER NOT NULL,
    client_name TEXT NOT NULL DEFAULT '',
    services TEXT NOT NULL DEFAULT '[]',
    created_ts INTEGER NOT NULL,
    last_change_ts INTEGER NOT NULL,
    demo INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS processes_scope ON processes (scope_id, status);
CREATE TABLE IF NOT EXISTS ticket_counters (
    scope_id INTEGER NOT NULL, day TEXT NOT NULL, last_number INTEGER NOT NULL,
    PRIMARY KEY (scope_id, day)
);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY, process_id INTEGER NOT NULL REFERENCES processes(id), created_ts INTEGER NOT NULL
);
"""

#: Ticket processes get ids from here up (bookings use lower ones), as ZMS ids are >= 1000.
TICKET_ID_BASE = 500000
#: Statuses shown in a scope's queue.
QUEUE_STATUSES = ('confirmed', 'queued', 'called', 'processing', 'missed', 'parked')
#: Upstream's ``WorkstationProcessGet`` refuses these (403 ProcessNotCallable).
NOT_CALLABLE = ('reserved', 'preconfirmed', 'deleted', 'called', 'processing')
PROCESS_NOT_FOUND = 'BO\\Zmsbackend\\Process\\Exception\\ProcessNotFound'
PROCESS_NOT_CALLABLE = 'BO\\Zmsbackend\\Process\\Exception\\ProcessNotCallable'
AUTH_KEY_MISMATCH = 'BO\\Zmsbackend\\Process\\Exception\\AuthKeyMatchFailed'
SCOPE_NOT_FOUND = 'BO\\Zmsbackend\\Scope\\Exception\\ScopeNotFound'
NUMBERS_EXHAUSTED = 'BO\\Zmsbackend\\Scope\\Exception\\GivenNumberCountExceeded'
REQUEST_NOT_FOUND = 'BO\\Zmsbackend\\Matching\\Exception\\RequestNotFound'


class DbError(Exception):
    """A request the data does not allow; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, exception: str = '', data: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.exception, self.data = status, message, exception, data


@dataclass(frozen=True)
class ScopeRow:
    id: int
    short_name: str
    printer_hash: str
    first_number: int
    last_number: int
    processing_minutes: int
    workstations: int


@dataclass(frozen=True)
class ProcessRow:
    id: int
    scope_id: int
    auth_key: str
    status: str
    appointment_ts: int | None
    arrival_ts: int | None
    queue_number: int
    display_number: str
    with_appointment: bool
    client_name: str
    #: (ZMS request id, name) pairs.
    services: tuple[tuple[str, str], ...]
    created_ts: int
    last_change_ts: int
    demo: bool


class AppointmentDb:
    def __init__(self, path: str | Path, busy_timeout_s: float = 10.0):
        self.path = Path(path).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._conn_lock = threading.Lock()
        self._write_lock = threading.Lock()
        conn = self._conn()
        conn.execute('PRAGMA journal_mode=WAL')
        conn.executescript(SCHEMA)

    # -- connections and transactions --------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, 'conn', None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout_s, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute('PRAGMA foreign_keys=ON')
            conn.execute('PRAGMA synchronous=NORMAL')
            self._local.conn = conn
            with self._conn_lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction."""
        conn = self._conn()
        with self._write_lock:
            conn.execute('BEGIN IMMEDIATE')
            try:
                yield conn
            except BaseException:
                conn.execute('ROLLBACK')
                raise
            conn.execute('COMMIT')

    def close(self) -> None:
        with self._conn_lock:
            for conn in self._connections:
                try:
                    conn.close()
                except sqlite3.Error:
                    pass
            self._connections.clear()
        self._local = threading.local()

    # -- meta and scopes ---------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._conn().execute('SELECT value FROM meta WHERE key = ?', (key,)).fetchone()
        return row['value'] if row else None

    def set_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        conn.execute('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
                     (key, value))

    def upsert_scope(self, scope: ScopeRow) -> None:
        with self.write() as conn:
            conn.execute(
                'INSERT INTO scopes (id, short_name, printer_hash, first_number, last_number, processing_minutes,'
                ' workstations) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET'
                ' short_name = excluded.short_name, printer_hash = excluded.printer_hash,'
                ' first_number = excluded.first_number, last_number = excluded.last_number,'
                ' processing_minutes = excluded.processing_minutes, workstations = excluded.workstations',
                (scope.id, scope.short_name, scope.printer_hash, scope.first_number, scope.last_number,
                 scope.processing_minutes, scope.workstations))

    def scope(self, scope_id: int) -> ScopeRow | None:
        row = self._conn().execute('SELECT * FROM scopes WHERE id = ?', (scope_id,)).fetchone()
        return ScopeRow(**dict(row)) if row else None

    def scopes(self) -> list[ScopeRow]:
        return [ScopeRow(**dict(r)) for r in self._conn().execute('SELECT * FROM scopes ORDER BY id')]

    # -- processes ---------------------------------------------------------------------------------

    def insert_process(self, conn: sqlite3.Connection, p: ProcessRow) -> None:
        conn.execute(
            'INSERT OR REPLACE INTO processes (id, scope_id, auth_key, status, appointment_ts, arrival_ts,'
            ' queue_number, display_number, with_appointment, client_name, services, created_ts,'
            ' last_change_ts, demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            (p.id, p.scope_id, p.auth_key, p.status, p.appointment_ts, p.arrival_ts, p.queue_number,
             p.display_number, int(p.with_appointment), p.client_name, json.dumps(list(p.services)),
             p.created_ts, p.last_change_ts, int(p.demo)))

    def process(self, process_id: int, conn: sqlite3.Connection | None = None) -> ProcessRow | None:
        row = (conn or self._conn()).execute('SELECT * FROM processes WHERE id = ?', (process_id,)).fetchone()
        return _process(row) if row else None

    def demo_processes(self) -> list[ProcessRow]:
        return [_process(r) for r in self._conn().execute('SELECT * FROM processes WHERE demo = 1 ORDER BY id')]

    def count_processes(self) -> int:
        return self._conn().execute('SELECT COUNT(*) FROM processes').fetchone()[0]

    def count_by_status(self) -> dict[str, int]:
        return {r[0]: r[1] for r in self._conn().execute('SELECT status, COUNT(*) FROM processes GROUP BY status')}

    def set_queued(self, process_id: int, auth_key: str | None, now: int, arrival: int | None = None) -> ProcessRow:
        """Upstream's ``POST /process/status/queued/``: the process (any status) becomes ``queued`` with
        an arrival time (the body's ``queue.arrivalTime`` or now). Upstream uses it to re-queue a missed
        visitor; it does not check the status, and neither does this."""
        with self.write() as conn:
            p = self.process(process_id, conn)
            if p is None:
                raise DbError(404, 'Zu den angegebenen Daten konnte kein Termin gefunden werden.', PROCESS_NOT_FOUND)
            if (auth_key or '') != p.auth_key:
                raise DbError(403, 'Der Absagecode ist nicht korrekt.', AUTH_KEY_MISMATCH)
            conn.execute("UPDATE processes SET status = 'queued', arrival_ts = ?, last_change_ts = ? WHERE id = ?",
                         (arrival or now, now, process_id))
            return self.process(process_id, conn)

    def draw_ticket(self, scope_id: int, now: datetime) -> ProcessRow:
        """Upstream's ticket printer call: a new waiting number, unique and gap-free per scope and day.
        Like upstream: no check of the printer hash, no idempotency key (a retried draw is a new
        ticket), 404 ``GivenNumberCountExceeded`` when the day's numbers are used up."""
        ts = int(now.timestamp())
        day = now.date().isoformat()
        with self.write() as conn:
            scope = conn.execute('SELECT * FROM scopes WHERE id = ?', (scope_id,)).fetchone()
            if scope is None:
                raise DbError(404, 'Zu den angegebenen Daten konnte kein Standort gefunden werden.', SCOPE_NOT_FOUND)
            counter = conn.execute('SELECT last_number FROM ticket_counters WHERE scope_id = ? AND day = ?',
                                   (scope_id, day)).fetchone()
            number = counter['last_number'] + 1 if counter else scope['first_number']
            if number > scope['last_number']:
                raise DbError(404, 'Queue numbers contingent exceeded', NUMBERS_EXHAUSTED)
            conn.execute('INSERT INTO ticket_counters (scope_id, day, last_number) VALUES (?, ?, ?)'
                         ' ON CONFLICT(scope_id, day) DO UPDATE SET last_number = excluded.last_number',
                         (scope_id, day, number))
            next_id = conn.execute('SELECT MAX(id) FROM processes WHERE id >= ?', (TICKET_ID_BASE,)).fetchone()[0]
            process = ProcessRow(
                id=(next_id or TICKET_ID_BASE - 1) + 1, scope_id=scope_id, auth_key=f'{secrets.randbits(16):04x}',
                status='queued', appointment_ts=None, arrival_ts=ts, queue_number=number,
                display_number=str(number), with_appointment=False, client_name='', services=(), created_ts=ts,
                last_change_ts=ts, demo=False)
            self.insert_process(conn, process)
            return process

    def queue(self, scope_id: int, now: int, window_s: int = 12 * 3600) -> list[ProcessRow]:
        """Today's queue of a scope: waiting and called visitors, and bookings still to come, by arrival."""
        rows = self._conn().execute(
            f'SELECT * FROM processes WHERE scope_id = ? AND status IN ({",".join("?" * len(QUEUE_STATUSES))})'
            ' AND COALESCE(appointment_ts, arrival_ts) BETWEEN ? AND ?'
            ' ORDER BY COALESCE(appointment_ts, arrival_ts), id',
            (scope_id, *QUEUE_STATUSES, now - window_s, now + window_s)).fetchall()
        return [_process(r) for r in rows]

    def ticket_numbers(self, scope_id: int) -> list[int]:
        """All waiting numbers drawn at a scope (for checks and the benchmark)."""
        return [r[0] for r in self._conn().execute(
            'SELECT queue_number FROM processes WHERE scope_id = ? AND id >= ? ORDER BY queue_number',
            (scope_id, TICKET_ID_BASE))]


def _process(row: sqlite3.Row) -> ProcessRow:
    data = dict(row)
    data['services'] = tuple((str(item), str(item)) if isinstance(item, str) else (str(item[0]), str(item[1]))
                             for item in json.loads(data['services']))  # plain names: early databases
    data['with_appointment'] = bool(data['with_appointment'])
    data['demo'] = bool(data['demo'])
    return ProcessRow(**data)

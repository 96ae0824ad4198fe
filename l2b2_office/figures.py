"""The office's figures (issue 16): counts per hour in SQLite, privacy-preserving by construction.

What is stored is only *how many*: rows ``(hour, counter, label) -> n`` and, for the robot's answer time,
a histogram ``(hour, bucket) -> n`` of bucketed milliseconds. There is no per-visitor row, no free text,
no audio, transcript, name or booking number: every label comes from a closed vocabulary (language codes,
the dialogue's intent names, the catalog's department ids, escort outcomes, alert kinds) and anything else
raises ``ValueError``, so a bug upstream can never write a visitor's words into the file.

Hours are local office time (``Europe/Berlin`` by default) written as ``2026-12-07T09``; days and months
are sums of hours (``2026-12-07``, ``2026-12``). On the autumn DST change the repeated hour 02 is one
bucket. The median answer time of any period is read from the summed histogram (linear within a bucket,
as Prometheus' ``histogram_quantile``), so hours, days and months need no samples.

Pure Python (sqlite3, no ROS): the node, the CLI and the tests share it. One connection per store,
guarded by a lock (the node writes from executor threads), WAL journal, schema version in
``PRAGMA user_version``.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
import csv
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import io
import os
from pathlib import Path
import sqlite3
import threading
from zoneinfo import ZoneInfo

from l2b2_common.catalog import LANGUAGES

SCHEMA_VERSION = 1
DEFAULT_TIMEZONE = 'Europe/Berlin'
DEFAULT_FILE = 'office_figures.sqlite'
#: ``FiguresStore(MEMORY)``: a store in memory only, empty until written (gone when closed).
MEMORY = ':memory:'

#: The dialogue's intent names (l2b2_dialogue.nlu.INTENTS; a test keeps the two equal).
INTENTS = ('escort', 'appointment_checkin', 'ticket', 'opening_hours', 'greeting', 'goodbye', 'affirm', 'deny',
           'language_switch', 'staff_help', 'smalltalk', 'out_of_scope')
#: How an escort ended, as counted (EscortOutcome folded: ESTOPPED, NAVIGATION_FAILED, ... are "failed").
ESCORT_OUTCOMES = ('succeeded', 'visitor_lost', 'failed', 'canceled', 'refused')
#: StaffAlert kinds (interfaces/l2b2_interfaces/msg/StaffAlert.msg); any other kind is counted as "other".
ALERT_KINDS = ('stuck', 'visitor_lost', 'estop', 'battery_critical', 'queue_down', 'node_missing',
               'checkin_failures', 'other')
#: Counters without a label.
PLAIN_COUNTERS = ('greeted', 'conversations', 'checkins', 'tickets', 'not_understood')
#: Counters with a label, and the fixed vocabulary of each (departments come from the catalog).
LABELLED_COUNTERS = ('language', 'intent', 'department', 'escort', 'alert')
COUNTERS = PLAIN_COUNTERS + LABELLED_COUNTERS
PERIODS = ('hour', 'day', 'month')
_KEY_LENGTH = {'hour': 13, 'day': 10, 'month': 7}

#: Upper bounds (ms) of the answer-time histogram; the last bucket (key -1) holds everything slower.
ANSWER_BUCKETS_MS = (100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 15000, 30000)
OVERFLOW_BUCKET = -1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counts (
    hour TEXT NOT NULL,
    counter TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    n INTEGER NOT NULL,
    PRIMARY KEY (hour, counter, label)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answer_times (
    hour TEXT NOT NULL,
    bucket_ms INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (hour, bucket_ms)
) WITHOUT ROWID;
"""


def default_database() -> Path:
    """Beside the panel's users file: ``$L2B2_STATE_DIR`` or ``$XDG_STATE_HOME/l2b2`` or ``~/.local/state/l2b2``."""
    base = os.environ.get('L2B2_STATE_DIR') or os.path.join(
        os.environ.get('XDG_STATE_HOME') or os.path.expanduser('~/.local/state'), 'l2b2')
    return Path(base) / DEFAULT_FILE


def database_path(setting: str | os.PathLike = '') -> Path:
    """The database a ``database`` setting names (the figures node's, the panel's): empty is
    :func:`default_database`, ``~`` is expanded, and a relative path is under that default's directory."""
    path = Path(setting).expanduser() if str(setting) else default_database()
    return path if path.is_absolute() else default_database().parent / path


class FiguresError(RuntimeError):
    """The figures database cannot be opened or written: the message names the file."""


@dataclass
class Row:
    """One period's figures: ``counts`` by column (``conversations``, ``language_tr``, ``escort_failed``, ...)."""

    period: str
    counts: dict[str, int] = field(default_factory=dict)
    answers: int = 0
    median_answer_ms: int | None = None


def column(counter: str, label: str = '') -> str:
    """The CSV/summary column of a counter and label: ``language_tr``, ``conversations``."""
    return f'{counter}_{label}' if label else counter


def median_ms(histogram: dict[int, int]) -> int | None:
    """The median of a bucketed histogram (bucket upper bound -> count), linear within its bucket."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    half, seen, lower = total / 2.0, 0, 0.0
    for upper in ANSWER_BUCKETS_MS:
        n = histogram.get(upper, 0)
        if n and seen + n >= half:
            return round(lower + (upper - lower) * (half - seen) / n)
        seen += n
        lower = float(upper)
    return ANSWER_BUCKETS_MS[-1]  # in the overflow bucket: "at least the last bound"


def bucket_of(ms: float) -> int:
    """The histogram bucket (its upper bound in ms) an answer time falls into."""
    i = bisect_left(ANSWER_BUCKETS_MS, ms)
    return ANSWER_BUCKETS_MS[i] if i < len(ANSWER_BUCKETS_MS) else OVERFLOW_BUCKET


class FiguresStore:
    """Counts per local hour in one SQLite file; labels only from a closed vocabulary."""

    def __init__(self, path: str | Path, *, departments: Iterable[str] = (), timezone: str = DEFAULT_TIMEZONE,
                 readonly: bool = False):
        self.path = Path(path)
        self.tz = ZoneInfo(timezone)
        self.vocabulary: dict[str, frozenset[str]] = {
            'language': frozenset(LANGUAGES), 'intent': frozenset(INTENTS), 'department': frozenset(departments),
            'escort': frozenset(ESCORT_OUTCOMES), 'alert': frozenset(ALERT_KINDS)}
        self._lock = threading.Lock()
        self._db = self._open(readonly)

    # -- opening -----------------------------------------------------------------------------------------------
    def _open(self, readonly: bool) -> sqlite3.Connection:
        if str(self.path) == MEMORY:  # an empty store of no file (what the panel answers without a database)
            readonly, uri = False, 'file::memory:'
        elif readonly and not self.path.is_file():
            raise FiguresError(f'{self.path}: figures database not found')
        else:
            if not readonly:
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise FiguresError(f'{self.path}: cannot create its directory: {exc.strerror or exc}') from None
            uri = f'{self.path.resolve().as_uri()}?mode={"ro" if readonly else "rwc"}'
        try:
            db = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=5.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise FiguresError(f'{self.path}: cannot open the figures database: {exc}') from None
        try:
            if not readonly:
                db.execute('PRAGMA journal_mode=WAL')
                db.execute('PRAGMA synchronous=NORMAL')
            version = db.execute('PRAGMA user_version').fetchone()[0]
            if version > SCHEMA_VERSION:
                raise FiguresError(f'{self.path}: figures schema version {version} is newer than this software '
                                   f'reads ({SCHEMA_VERSION})')
            if not readonly and version < SCHEMA_VERSION:
                db.execute('BEGIN IMMEDIATE')
                try:
                    for statement in _SCHEMA.split(';'):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f'PRAGMA user_version={SCHEMA_VERSION}')
                    db.execute('COMMIT')
                except BaseException:
                    db.execute('ROLLBACK')
                    raise
            elif readonly and version == 0:
                raise FiguresError(f'{self.path}: not a figures database (no schema)')
            db.execute('SELECT COUNT(*) FROM counts').fetchone()
            db.execute('SELECT COUNT(*) FROM answer_times').fetchone()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise FiguresError(f'{self.path}: not a usable figures database: {exc}') from None
        except FiguresError:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> FiguresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -----------------------------------------------------------------------------------------------
    def hour_key(self, at: datetime) -> str:
        """``2026-12-07T09`` in office time; a naive ``at`` is taken as office time already."""
        local = at.astimezone(self.tz) if at.tzinfo is not None else at
        return local.strftime('%Y-%m-%dT%H')

    def check(self, counter: str, label: str = '') -> None:
        """Raise ValueError unless ``counter`` and ``label`` are of the closed vocabulary."""
        if counter in PLAIN_COUNTERS:
            if label:
                raise ValueError(f'counter "{counter}" takes no label')
            return
        if counter not in LABELLED_COUNTERS:
            raise ValueError(f'unknown counter (allowed: {", ".join(COUNTERS)})')
        if label not in self.vocabulary[counter]:
            # Never echo the label: it might be the very text that must not be stored or logged.
            raise ValueError(f'label of "{counter}" is not in its vocabulary')

    def knows(self, counter: str, label: str = '') -> bool:
        try:
            self.check(counter, label)
        except ValueError:
            return False
        return True

    def add(self, counter: str, label: str = '', at: datetime | None = None, n: int = 1) -> None:
        """Count ``n`` more of ``counter``/``label`` in the hour of ``at`` (default: now)."""
        self.check(counter, label)
        if not isinstance(n, int) or n < 0:
            raise ValueError('n must be a non-negative int')
        hour = self.hour_key(at or datetime.now(self.tz))
        self._write('INSERT INTO counts (hour, counter, label, n) VALUES (?, ?, ?, ?) '
                    'ON CONFLICT (hour, counter, label) DO UPDATE SET n = n + excluded.n', (hour, counter, label, n))

    def add_answer_time(self, ms: float, at: datetime | None = None) -> None:
        """One answer that took ``ms`` milliseconds, kept only as its bucket."""
        if not (ms >= 0):  # also rejects NaN
            raise ValueError('answer time must be >= 0 ms')
        hour = self.hour_key(at or datetime.now(self.tz))
        self._write('INSERT INTO answer_times (hour, bucket_ms, n) VALUES (?, ?, 1) '
                    'ON CONFLICT (hour, bucket_ms) DO UPDATE SET n = n + 1', (hour, bucket_of(ms)))

    def _write(self, sql: str, args: tuple) -> None:
        with self._lock:
            if self._db is None:
                raise FiguresError(f'{self.path}: figures database is closed')
            try:
                self._db.execute(sql, args)
            except sqlite3.Error as exc:
                raise FiguresError(f'{self.path}: cannot write figures: {exc}') from None

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._db is None:
                raise FiguresError(f'{self.path}: figures database is closed')
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise FiguresError(f'{self.path}: cannot read figures: {exc}') from None

    # -- reading -----------------------------------------------------------------------------------------------
    def totals(self) -> dict[tuple[str, str], int]:
        """Every counter and label summed over the whole file (the Prometheus counters)."""
        return {(c, lbl): n for c, lbl, n in self._read(
            'SELECT counter, label, SUM(n) FROM counts GROUP BY counter, label')}

    def answer_histogram(self, first_hour: str = '', last_hour: str = '\uffff') -> dict[int, int]:
        return {b: n for b, n in self._read(
            'SELECT bucket_ms, SUM(n) FROM answer_times WHERE hour >= ? AND hour <= ? GROUP BY bucket_ms',
            (first_hour, last_hour))}

    def summary(self, period: str, start: date, end: date) -> list[Row]:
        """One row per hour, day or month from day ``start`` to day ``end`` (both included), zeros included.

        Columns are every counter/label with data in the range plus the fixed plain counters.
        """
        if period not in PERIODS:
            raise ValueError(f'period must be one of {", ".join(PERIODS)}')
        if end < start:
            raise ValueError(f'the range ends ({end}) before it starts ({start})')
        first, last = f'{start:%Y-%m-%d}T00', f'{end:%Y-%m-%d}T23'
        width = _KEY_LENGTH[period]
        rows = {key: Row(key, {c: 0 for c in PLAIN_COUNTERS}) for key in _periods(period, start, end)}
        for key, counter, label, n in self._read(
                'SELECT substr(hour, 1, ?), counter, label, SUM(n) FROM counts WHERE hour >= ? AND hour <= ? '
                'GROUP BY 1, 2, 3', (width, first, last)):
            row = rows.setdefault(key, Row(key, {c: 0 for c in PLAIN_COUNTERS}))
            row.counts[column(counter, label)] = row.counts.get(column(counter, label), 0) + n
        histograms: dict[str, dict[int, int]] = {}
        for key, bucket, n in self._read(
                'SELECT substr(hour, 1, ?), bucket_ms, SUM(n) FROM answer_times WHERE hour >= ? AND hour <= ? '
                'GROUP BY 1, 2', (width, first, last)):
            histograms.setdefault(key, {})[bucket] = n
        for key, histogram in histograms.items():
            row = rows.setdefault(key, Row(key, {c: 0 for c in PLAIN_COUNTERS}))
            row.answers, row.median_answer_ms = sum(histogram.values()), median_ms(histogram)
        columns = _columns(rows.values())
        for row in rows.values():
            row.counts = {c: row.counts.get(c, 0) for c in columns}
        return [rows[k] for k in sorted(rows)]

    def month_summary(self, year: int, month: int) -> dict:
        """The month as a city reports it: visitors greeted, conversations, ... and the median answer time."""
        start = date(year, month, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        (row,) = self.summary('month', start, end)
        days = self.summary('day', start, end)

        def labelled(counter: str) -> dict[str, int]:
            prefix = counter + '_'
            return {c[len(prefix):]: n for c, n in row.counts.items() if c.startswith(prefix) and n}

        return {
            'month': f'{start:%Y-%m}',
            'visitors_greeted': row.counts['greeted'],
            'conversations': row.counts['conversations'],
            'languages': labelled('language'),
            'intents': labelled('intent'),
            'departments': labelled('department'),
            'escorts': {o: row.counts.get(column('escort', o), 0) for o in ESCORT_OUTCOMES},
            'checkins': row.counts['checkins'],
            'tickets': row.counts['tickets'],
            'not_understood': row.counts['not_understood'],
            'alerts': labelled('alert'),
            'answers': row.answers,
            'median_answer_ms': row.median_answer_ms,
            'days_with_visitors': sum(1 for d in days if d.counts['greeted'] or d.counts['conversations']),
        }

    def to_csv(self, period: str, start: date, end: date) -> str:
        """The summary as CSV: ``period`` first, then the counts, answers and median answer time (ms)."""
        rows = self.summary(period, start, end)
        columns = list(rows[0].counts) if rows else list(PLAIN_COUNTERS)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator='\n')
        writer.writerow([period, *columns, 'answers', 'median_answer_ms'])
        for row in rows:
            median = '' if row.median_answer_ms is None else row.median_answer_ms
            writer.writerow([row.period, *(row.counts[c] for c in columns), row.answers, median])
        return out.getvalue()

    def dump(self) -> Iterator[tuple]:
        """Every stored value of every table (for privacy checks)."""
        tables = [t for (t,) in self._read("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            yield from self._read(f'SELECT * FROM "{table}"')  # table names from sqlite_master


def _periods(period: str, start: date, end: date) -> list[str]:
    keys: list[str] = []
    day = start
    while day <= end:
        if period == 'hour':
            keys.extend(f'{day:%Y-%m-%d}T{h:02d}' for h in range(24))
        else:
            key = f'{day:%Y-%m-%d}'[:_KEY_LENGTH[period]]
            if not keys or keys[-1] != key:
                keys.append(key)
        day += timedelta(days=1)
    return keys


def _columns(rows: Iterable[Row]) -> list[str]:
    """Plain counters, then labelled ones in a fixed order (vocabulary order, departments alphabetical)."""
    seen = {c for row in rows for c in row.counts}
    order: list[str] = list(PLAIN_COUNTERS)
    fixed = {'language': LANGUAGES, 'intent': INTENTS, 'escort': ESCORT_OUTCOMES, 'alert': ALERT_KINDS}
    for counter in LABELLED_COUNTERS:
        labels = fixed.get(counter, ())
        order += [column(counter, lbl) for lbl in labels if counter in ('language', 'escort')
                  or column(counter, lbl) in seen]
        prefix = counter + '_'
        order += sorted(c for c in seen if c.startswith(prefix) and c not in order)
    return order


# -- Prometheus --------------------------------------------------------------------------------------------------
#: Metric name and label name of each counter in the Prometheus export.
METRICS = {
    'greeted': ('l2b2_visitors_greeted', ''),
    'conversations': ('l2b2_conversations', ''),
    'checkins': ('l2b2_checkins', ''),
    'tickets': ('l2b2_tickets', ''),
    'not_understood': ('l2b2_not_understood', ''),
    'language': ('l2b2_conversation_languages', 'language'),
    'intent': ('l2b2_intents', 'intent'),
    'department': ('l2b2_departments', 'department'),
    'escort': ('l2b2_escorts', 'outcome'),
    'alert': ('l2b2_alerts_raised', 'kind'),
}


class FiguresCollector:
    """Prometheus collector reading the store on each scrape (register it in a CollectorRegistry).

    Counters are totals since the database began (monotonic while the file is kept, as Prometheus' rate()
    wants). ``health`` returns {component: level 0..3} (3 = stale), ``alerts`` {kind: active alerts}; both
    are gauges of the moment.
    """

    def __init__(self, store: FiguresStore, health: Callable[[], dict[str, int]] | None = None,
                 alerts: Callable[[], dict[str, int] | None] | None = None):
        self.store, self.health, self.alerts = store, health, alerts

    def describe(self) -> list:
        return []  # no describe at registration: collect() reads the database only when scraped

    def collect(self):
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        totals = self.store.totals()
        for counter, (name, label_name) in METRICS.items():
            help_text = f'{counter.replace("_", " ")} counted by the robot since the figures database began'
            if label_name:
                family = CounterMetricFamily(name, help_text, labels=[label_name])
                labels = sorted({lbl for (c, lbl) in totals if c == counter} | (
                    set(self.store.vocabulary[counter]) if counter in ('language', 'escort', 'alert') else set()))
                for lbl in labels:
                    family.add_metric([lbl], totals.get((counter, lbl), 0))
            else:
                family = CounterMetricFamily(name, help_text, value=totals.get((counter, ''), 0))
            yield family
        yield self._answer_histogram()
        if self.health is not None:
            family = GaugeMetricFamily('l2b2_component_health', 'Health of each component: 0 ok, 1 degraded, '
                                       '2 error, 3 stale (no report recently)', labels=['component'])
            for component, level in sorted(self.health().items()):
                family.add_metric([component], level)
            yield family
        if self.alerts is not None:
            active = self.alerts()
            if active is not None:
                family = GaugeMetricFamily('l2b2_alerts_active', 'Staff alerts active or not yet acknowledged, '
                                           'by kind', labels=['kind'])
                for kind in ALERT_KINDS:
                    family.add_metric([kind], active.get(kind, 0))
                yield family

    def _answer_histogram(self):
        from prometheus_client.core import HistogramMetricFamily

        histogram = self.store.answer_histogram()
        buckets, seen, total_ms = [], 0, 0.0
        lower = 0.0
        for upper in ANSWER_BUCKETS_MS:
            n = histogram.get(upper, 0)
            seen += n
            total_ms += n * (lower + upper) / 2.0  # the sum is estimated from bucket centres
            buckets.append((str(upper / 1000.0), seen))
            lower = float(upper)
        overflow = histogram.get(OVERFLOW_BUCKET, 0)
        seen += overflow
        total_ms += overflow * ANSWER_BUCKETS_MS[-1]
        buckets.append(('+Inf', seen))
        return HistogramMetricFamily('l2b2_answer_time_seconds', 'Time from a visitor\'s utterance or touch to '
                                     'the robot\'s answer (sum estimated from bucket centres)',
                                     buckets=buckets, sum_value=total_ms / 1000.0)

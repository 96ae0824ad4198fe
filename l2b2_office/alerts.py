"""Staff alerts (issue 16): what is wrong, until a staff member has seen it — without any visitor data.

:class:`AlertBook` keeps the alerts; :class:`AlertAudit` writes every raising, clearing and
acknowledgement as one JSON line. Pure Python (no ROS): the node (``alerts_node``) feeds it and
publishes :meth:`AlertBook.pending`.

No visitor data can enter: callers name only a *kind* (a closed set) and a *source* (a component
name, checked against a strict pattern); the text is built here from a fixed template per kind.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import IntEnum
import itertools
import json
import os
from pathlib import Path
import re
import threading


class Severity(IntEnum):
    """``severity`` of l2b2_interfaces/msg/StaffAlert (its WARNING and CRITICAL constants)."""

    WARNING = 1
    CRITICAL = 2


#: Every kind of alert, its severity and its text. Critical: the robot cannot (safely) serve at all
#: or is about to stop — a stop, an empty battery, a robot stuck in a corridor. Warning: service goes
#: on with a gap staff should close (a visitor to find, check-in at the desk, a part to restart).
KINDS: dict[str, tuple[Severity, str]] = {
    'stuck': (Severity.CRITICAL, 'Robot stuck: no progress for a while ({source}).'),
    'visitor_lost': (Severity.WARNING, 'Visitor lost during an escort ({source}).'),
    'estop': (Severity.CRITICAL, 'Emergency stop engaged ({source}).'),
    'battery_critical': (Severity.CRITICAL, 'Battery critical: the robot must be charged ({source}).'),
    'queue_down': (Severity.WARNING, 'Appointment system unreachable: check-in and tickets fail ({source}).'),
    'node_missing': (Severity.WARNING, 'Component "{source}" stopped reporting or keeps failing.'),
    'checkin_failures': (Severity.WARNING, 'Repeated check-in failures at the robot ({source}).'),
}

#: A source is a component name (as on /l2b2/health); anything else is replaced, so that no text
#: from outside (a message, a name) can ride along in it.
SOURCE_PATTERN = re.compile(r'[a-z][a-z0-9_]{0,39}')
UNKNOWN_SOURCE = 'unknown'

#: Staff user names in acknowledgements (as the panel's users file allows): kept short and printable.
USER_PATTERN = re.compile(r'[A-Za-z0-9_.@-]{1,64}')


def clean_source(source: str) -> str:
    return source if SOURCE_PATTERN.fullmatch(source or '') else UNKNOWN_SOURCE


@dataclass(frozen=True)
class Alert:
    """One raising of one kind from one source. Times are wall-clock seconds (epoch)."""

    id: str
    kind: str
    severity: Severity
    source: str
    text: str
    raised: float
    active: bool = True
    cleared_at: float | None = None
    acknowledged: bool = False
    acknowledged_by: str = ''
    acknowledged_at: float | None = None

    @property
    def pending(self) -> bool:
        """Still to be shown: not yet acknowledged, or the condition is still there."""
        return self.active or not self.acknowledged


@dataclass(frozen=True)
class AckResult:
    success: bool
    message: str
    alert: Alert | None = None
    #: This call acknowledged it (not an earlier one): publish and log.
    changed: bool = False


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec='milliseconds')


class AlertAudit:
    """Appends one JSON line per event to a file created 0600 (as the panel's audit log, which drops the
    details an alert needs, hence a writer of its own). A failed write is counted, never raised: an
    alert must still reach the panel when the disk is full."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.failures = 0
        self.last_error = ''
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def write(self, event: str, alert: Alert, now: float, user: str = '') -> bool:
        entry = {'time': iso(now), 'event': event, 'id': alert.id, 'kind': alert.kind,
                 'severity': alert.severity.name.lower(), 'source': alert.source}
        if user:
            entry['user'] = user
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                with os.fdopen(fd, 'a', encoding='utf-8') as f:
                    f.write(line + '\n')
            except OSError as exc:
                self.failures += 1
                self.last_error = f'{type(exc).__name__}: {exc.strerror or exc}'
                return False
        return True

    def last_number(self, tail_bytes: int = 65536) -> int:
        """The highest alert number in the log's last lines (0: none), so that ids stay unique across restarts."""
        try:
            with open(self.path, 'rb') as f:
                f.seek(max(0, f.seek(0, os.SEEK_END) - tail_bytes))
                text = f.read().decode('utf-8', 'replace')
        except OSError:
            return 0
        return max((int(m) for m in re.findall(r'"id": "[a-z_]+-(\d+)"', text)), default=0)


class AlertBook:
    """The alerts of this run: raise, clear, acknowledge; the pending ones for the panel; a bounded history.

    A kind that is active from a source is not raised again from it (a held stop is one alert); once
    cleared, the next raising is a new alert with a new id, so acknowledging an old one never hides it.
    Ids go on from the audit log's last one, so that they stay unique across restarts.
    History keeps at most ``max_history`` alerts: the oldest that are no longer pending go first,
    pending ones are never dropped.
    """

    def __init__(self, audit: AlertAudit | None = None, max_history: int = 500,
                 on_raise: Callable[[Alert], None] | None = None):
        self.audit = audit
        self.max_history = max(1, max_history)
        self.on_raise = on_raise
        self._alerts: list[Alert] = []  # oldest first
        self._ids = itertools.count((audit.last_number() if audit is not None else 0) + 1)

    def raise_(self, kind: str, source: str, now: float) -> Alert | None:
        """Raise ``kind`` from ``source``; None when it is active from there already.

        Severity and text come from :data:`KINDS`; an unknown kind is a programming error (ValueError).
        """
        if kind not in KINDS:
            raise ValueError(f'unknown alert kind {kind!r} (known: {", ".join(KINDS)})')
        source = clean_source(source)
        if self._active(kind, source) is not None:
            return None
        severity, template = KINDS[kind]
        alert = Alert(id=f'{kind}-{next(self._ids)}', kind=kind, severity=severity, source=source,
                      text=template.format(source=source), raised=now)
        self._alerts.append(alert)
        self._trim()
        self._audit('raised', alert, now)
        if self.on_raise is not None:
            self.on_raise(alert)
        return alert

    def clear(self, kind: str, source: str, now: float) -> Alert | None:
        """The condition is gone: the alert becomes inactive (listed until acknowledged). None if not active."""
        alert = self._active(kind, clean_source(source))
        if alert is None:
            return None
        alert = self._replace(alert, active=False, cleared_at=now)
        self._audit('cleared', alert, now)
        return alert

    def acknowledge(self, alert_id: str, user: str, now: float) -> AckResult:
        """A staff member saw it. Acknowledging twice is fine (two staff at once); the first user stays."""
        if not USER_PATTERN.fullmatch(user or ''):
            return AckResult(False, 'a staff user name is required (letters, digits, . _ @ -, at most 64)')
        alert = next((a for a in self._alerts if a.id == alert_id), None)
        if alert is None:
            return AckResult(False, f'no alert with that id ({alert_id[:40]!r})')
        if alert.acknowledged:
            return AckResult(True, f'already acknowledged by {alert.acknowledged_by}', alert)
        alert = self._replace(alert, acknowledged=True, acknowledged_by=user, acknowledged_at=now)
        self._audit('acknowledged', alert, now, user)
        self._trim()
        return AckResult(True, 'acknowledged', alert, changed=True)

    def pending(self) -> list[Alert]:
        """Unacknowledged or still active, newest first: what the panel shows (with sound while unacknowledged)."""
        return [a for a in reversed(self._alerts) if a.pending]

    def history(self, limit: int | None = None) -> list[Alert]:
        """All kept alerts, newest first."""
        alerts = list(reversed(self._alerts))
        return alerts if limit is None else alerts[:max(0, limit)]

    def get(self, alert_id: str) -> Alert | None:
        return next((a for a in self._alerts if a.id == alert_id), None)

    # -- internals ------------------------------------------------------------------------------------------
    def _active(self, kind: str, source: str) -> Alert | None:
        return next((a for a in self._alerts if a.active and a.kind == kind and a.source == source), None)

    def _replace(self, alert: Alert, **changes: object) -> Alert:
        new = replace(alert, **changes)
        self._alerts[self._alerts.index(alert)] = new
        return new

    def _trim(self) -> None:
        excess = len(self._alerts) - self.max_history
        if excess <= 0:
            return
        done = [a for a in self._alerts if not a.pending][:excess]  # the oldest settled ones
        drop = {id(a) for a in done}
        self._alerts = [a for a in self._alerts if id(a) not in drop]

    def _audit(self, event: str, alert: Alert, now: float, user: str = '') -> None:
        if self.audit is not None:
            self.audit.write(event, alert, now, user)

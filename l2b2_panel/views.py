"""What the screens get of a ROS message: the floor map, a health line's colour, an alert, the office day.

Split from :mod:`l2b2_panel.state`: each function here turns one message (as plain values) into the few
fields a browser may see, names cut short and unknowns made None, so the rule of what leaves the robot
sits in one place; :class:`~l2b2_panel.state.PanelState` only keeps the results. No ROS import here.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
import math
import re
from typing import Any

import numpy as np

from l2b2_common.codes import HealthLevel
from l2b2_common.maps import OccupancyMap


@dataclass(frozen=True, eq=False)
class FloorMap:
    """An occupancy grid as the browser draws it: row 0 at the bottom (origin), 0 free, 100 occupied, 255 unknown."""

    width: int
    height: int
    resolution: float
    origin: tuple[float, float, float]
    cells: np.ndarray
    source: str

    @classmethod
    def from_occupancy_map(cls, grid: OccupancyMap) -> FloorMap:
        """From the shared map type (a map_server file via ``OccupancyMap.from_yaml``, or /map)."""
        cells = np.where(grid.data < 0, 255, grid.data).astype(np.uint8)
        return cls(grid.width, grid.height, grid.resolution, tuple(grid.origin), cells, grid.source)

    def as_dict(self) -> dict[str, Any]:
        return {'width': self.width, 'height': self.height, 'resolution': self.resolution,
                'origin': list(self.origin), 'source': self.source,
                'cells': base64.b64encode(self.cells.tobytes()).decode('ascii')}


#: What a staff member must know but is no fault of the system: the queue bridge reports a refused check-in
#: (a visitor may need help at the desk) as DEGRADED health; the panel shows it as a notice, not as trouble.
_CHECKIN_NOTICE = re.compile(r'^check-in failed: (too early|too late|not found|forbidden|invalid|closed|'
                             r'already checked in)( at [\w-]+)?$')


def health_shown(component: str, level: int, message: str, estop_active: bool) -> str:
    """The colour class a health line gets on the staff panel: its level, except that a latched emergency
    stop shows the safety gate as stopped (its node reports OK: it works, the robot must not move), and a
    refused check-in is a notice (the visitor's outcome, not the appointment system's health)."""
    if component == 'safety_gate' and estop_active and level != HealthLevel.STALE:
        return 'stopped'
    if component == 'queue_bridge' and level == HealthLevel.DEGRADED and _CHECKIN_NOTICE.match(message):
        return 'notice'
    return {HealthLevel.OK: 'ok', HealthLevel.DEGRADED: 'degraded', HealthLevel.ERROR: 'error'}.get(level, 'stale')


_ALERT_NAME = 64  # id, kind, source and user are short names; longer ones are cut


def clean_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """One alert (l2b2_interfaces/msg/StaffAlert as plain values) as the staff snapshot carries it: what
    happened, where, when, and who acknowledged it; names cut short, times in epoch seconds. Its English
    ``text`` is not taken (the page shows its own translation by kind), nor anything else."""
    at = alert.get('acknowledged_at')
    return {
        'id': str(alert.get('id', ''))[:_ALERT_NAME], 'kind': str(alert.get('kind', ''))[:_ALERT_NAME],
        'severity': int(alert.get('severity', 0)), 'source': str(alert.get('source', ''))[:_ALERT_NAME],
        'raised': round(float(alert.get('raised', 0.0)), 3), 'active': bool(alert.get('active', False)),
        'acknowledged': bool(alert.get('acknowledged', False)),
        'acknowledged_by': str(alert.get('acknowledged_by', ''))[:_ALERT_NAME],
        'acknowledged_at': None if not at else round(float(at), 3),
    }


#: The office node's "no override" (the day cycle's 'none'; the message says '').
_NO_OVERRIDE = ('', 'none')
_OFFICE_NAME = 64  # phase, reason, action, override and fault are short names; longer ones are cut
#: What the visitor screen gets of the office day: when it is open, whether the robot escorts, its message keys.
#: Nothing about the battery, the staff's overrides or faults.
VISITOR_OFFICE_KEYS = ('phase', 'next_opening', 'office_closes_at', 'accepting_escorts', 'screen')


def clean_office(status: dict[str, Any]) -> dict[str, Any]:
    """/office/status (l2b2_interfaces/msg/OfficeStatus as plain values) as the staff snapshot carries it.

    Empty strings ("nothing": no reason while accepting, no fault, no override, an unknown time) become
    None; the battery's percent and time to full are None when unknown (NaN in the message)."""
    def name(key: str) -> str | None:
        v = str(status.get(key) or '')[:_OFFICE_NAME]
        return v or None

    def number(key: str, digits: int) -> float | None:
        v = status.get(key)
        if v is None:
            return None
        v = float(v)
        return round(v, digits) if math.isfinite(v) else None

    override = name('override')
    return {
        'phase': name('phase') or 'starting', 'accepting_escorts': bool(status.get('accepting_escorts')),
        'reason': name('reason'), 'next_opening': name('next_opening'), 'office_closes_at': name('office_closes_at'),
        'docked': bool(status.get('docked')), 'action': name('action'), 'busy': bool(status.get('busy')),
        'battery_percent': number('battery_percent', 1), 'charging': bool(status.get('charging')),
        'time_to_full_s': number('time_to_full_s', 0), 'override': None if override in (None, *_NO_OVERRIDE) else override,
        'fault': name('fault'), 'alerts': [str(a)[:_OFFICE_NAME] for a in status.get('alerts') or []],
        'screen': [str(k)[:_OFFICE_NAME] for k in status.get('screen') or []],
    }


def copy_office(office: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy of a :func:`clean_office` result a snapshot may hand out (its lists not shared)."""
    if office is None:
        return None
    return {**office, 'alerts': list(office['alerts']), 'screen': list(office['screen'])}

"""The live picture both screens show, built from ROS messages as plain values (no ROS import here).

The node feeds it from its subscriptions; the web server pushes :meth:`PanelState.staff_snapshot`
to logged-in staff and the much smaller :meth:`PanelState.visitor_snapshot` to the robot's own
screen. Nothing in here is written anywhere: utterances are shown live and forgotten.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
import math
import re
import threading
from typing import Any

import numpy as np

from l2b2_common.codes import HealthLevel
from l2b2_common.geometry import Pose2D
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


#: The dialogue's check-in states (l2b2_dialogue.states; a test keeps the two in step): what a visitor
#: says there is a booking number or a surname, which no screen outside the dialogue engine shows.
CHECKIN_STATES = ('checkin',)
MASK = '***'
_LONG_NUMBER = re.compile(r'\d{4,}')


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


#: Alerts the staff page's history lists (the newest seen, acknowledged ones included).
ALERT_HISTORY = 20
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


class Subtitles:
    """Which spoken sentence the screens show (no lock of its own: :class:`PanelState` holds one).

    The speech output queues the dialogue's sentences and speaks them in order, so it can be several
    sentences behind, and still speak the last visitor's when the next one begins. Each sentence asked
    for on /speech/say gets a running number; a new conversation (a new ``session_id``) makes every
    sentence asked for before the dialogue's previous state message stale (the dialogue publishes a
    new conversation's first sentences just before its first state), the end of one (idle) all
    sentences so far. The subtitle is the newest non-stale sentence the TTS has started (or ended
    without a voice), never an older one than shown.
    """

    KEEP = 64  # sentences remembered: far more than a conversation's backlog

    def __init__(self) -> None:
        self.count = 0          # sentences asked for so far
        self.mark = 0           # self.count when the dialogue's last state message arrived
        self.stale_upto = 0     # sentences with this number or lower belong to an earlier conversation
        self.session = ''
        self.tts_seen = False   # a speech output reports what it speaks
        self._asked: dict[str, tuple[int, str, str]] = {}
        self._shown: tuple[int, str, str] | None = None

    def shown(self) -> dict[str, Any]:
        return {} if self._shown is None else {'text': self._shown[1], 'language': self._shown[2]}

    def dialogue_state(self, session: str, ended: bool) -> bool:
        """A dialogue state message; True when a conversation began or ended (the screens clear)."""
        changed = ended or session != self.session
        if changed:
            self.stale_upto = self.count if ended or not session else self.mark
            if ended or not session or (self._shown is not None and self._shown[0] <= self.stale_upto):
                self._shown = None
        self.session, self.mark = session, self.count
        return changed

    def requested(self, utterance_id: str, text: str, language: str) -> bool:
        self.count += 1
        entry = (self.count, text, language)
        if utterance_id:
            self._asked[utterance_id] = entry
            if len(self._asked) > self.KEEP:
                self._asked.pop(next(iter(self._asked)))
        if self.tts_seen or not text:
            return False
        self._shown = entry
        return True

    def status(self, utterance_id: str, text: str, language: str) -> bool:
        """A status from the TTS; True when the subtitle changed."""
        self.tts_seen = True
        if not text:
            return False
        number = self._asked.get(utterance_id, (None,))[0] if utterance_id else None
        if number is None:
            number = self.count + 0.5  # asked for before the panel listened: it is spoken now, so current
        if number <= self.stale_upto or (self._shown is not None and number < self._shown[0]):
            return False
        if self._shown is not None and self._shown[0] == number:
            return False
        self._shown = (number, text, language)
        return True


def mask_numbers(text: str) -> str:
    """Booking numbers said anywhere else (four digits or more) are masked too; times and counters stay."""
    return _LONG_NUMBER.sub(lambda m: '*' * len(m.group()), text)


class PanelState:
    """Thread-safe live state; every *visible* change bumps ``seq`` so the pusher knows when to send.

    Streams that repeat themselves (odometry and /tf at 50 Hz, health and battery each second) bump it
    only when what the screens show changes: an idle robot costs the browsers one push a second (the
    pusher's heartbeat, which also carries staleness and the online flag), not twenty.
    """

    def __init__(self, stale_after_s: float = 3.0):
        self.stale_after_s = stale_after_s
        self._lock = threading.Lock()
        self.seq = 0
        self.map_version = 0
        self._map: FloorMap | None = None
        self._map_json: dict | None = None
        self.waypoints: dict[str, dict[str, float]] = {}
        self.targets: list[dict[str, Any]] = []
        self._pose: Pose2D | None = None
        self._pose_shown: dict[str, float] | None = None
        self._robot: dict[str, Any] = {'mode': 'unknown', 'target': '', 'battery': None}
        self._safety: dict[str, Any] = {'estop_active': False, 'source': '', 'teleop_active': False, 'known': False}
        self._plan: list[list[float]] = []
        self._people: list[dict[str, Any]] = []
        self._escort: dict[str, Any] | None = None
        self._dialogue: dict[str, Any] = {}
        self._recognized: dict[str, Any] = {}
        self._said: dict[str, Any] = {}
        self._said_seq = 0  # seq when _said changed, against the dialogue's own last_robot_text
        self._robot_text_seq = 0
        self._speaking = False
        self._subs = Subtitles()
        self._health: dict[str, dict[str, Any]] = {}
        self._last_heard = -math.inf
        self._private_text = ''  # a last_user_text heard in a check-in (shown masked)
        self._alerts: list[dict[str, Any]] = []
        self._alert_history: list[dict[str, Any]] = []  # newest first, at most ALERT_HISTORY
        self._office: dict[str, Any] | None = None  # /office/status; None until the office node spoke

    # --- updates (called from ROS callbacks) ---------------------------------------------------
    def _changed(self, now: float | None = None) -> None:
        self.seq += 1
        if now is not None:
            self._last_heard = max(self._last_heard, now)

    def set_map(self, floor_map: FloorMap) -> None:
        with self._lock:
            self._map, self._map_json = floor_map, None
            self.map_version += 1
            self._changed()

    def map_json(self) -> dict | None:
        with self._lock:
            if self._map is not None and self._map_json is None:
                self._map_json = {**self._map.as_dict(), 'version': self.map_version}
            return self._map_json

    def set_static(self, targets: list[dict[str, Any]], waypoints: dict[str, dict[str, float]]) -> None:
        with self._lock:
            self.targets, self.waypoints = targets, waypoints
            self._changed()

    def _heard(self, now: float) -> None:
        """Something arrived but nothing visible changed: only the online flag learns of it."""
        self._last_heard = max(self._last_heard, now)

    def set_robot_pose(self, pose: Pose2D, now: float) -> None:
        """The robot on the map (the bridge looks it up in its frame tree)."""
        shown = pose.as_dict()
        with self._lock:
            self._pose = pose
            if shown != self._pose_shown:
                self._pose_shown = shown
                self._changed(now)
            else:
                self._heard(now)

    def robot_pose(self) -> Pose2D | None:
        with self._lock:
            return self._pose

    def update_robot_status(self, mode: str, target: str, now: float) -> None:
        with self._lock:
            if (self._robot['mode'], self._robot['target']) != (mode, target):
                self._robot.update(mode=mode, target=target)
                self._changed(now)
            else:
                self._heard(now)

    def update_battery(self, percent: float | None, charging: bool, now: float) -> None:
        battery = None if percent is None else {'percent': round(percent, 1), 'charging': charging}
        with self._lock:
            if battery != self._robot['battery']:
                self._robot['battery'] = battery
                self._changed(now)
            else:
                self._heard(now)

    def update_safety(self, estop_active: bool, source: str, teleop_active: bool, now: float) -> None:
        safety = {'estop_active': estop_active, 'source': source, 'teleop_active': teleop_active, 'known': True}
        with self._lock:
            if safety != self._safety:
                self._safety = safety
                self._changed(now)
            else:
                self._heard(now)

    def update_plan(self, points: list[tuple[float, float]], max_points: int = 300) -> None:
        step = max(1, math.ceil(len(points) / max_points))
        kept = points[::step]
        if points and kept[-1] != points[-1]:
            kept.append(points[-1])
        plan = [[round(x, 2), round(y, 2)] for x, y in kept]
        with self._lock:
            if plan != self._plan:
                self._plan = plan
                self._changed()

    def update_people(self, people: list[tuple[int, float, float]], now: float) -> None:
        shown = [{'id': pid, 'x': round(x, 2), 'y': round(y, 2)} for pid, x, y in people]
        with self._lock:
            if shown != self._people:
                self._people = shown
                self._changed(now)
            else:
                self._heard(now)

    def update_escort(self, feedback: dict[str, Any] | None) -> None:
        with self._lock:
            if feedback != self._escort:
                self._escort = feedback
                self._changed()

    def update_dialogue(self, fields: dict[str, Any], now: float) -> None:
        """``last_user_text`` heard in a check-in (the booking number, the surname) is masked here, on
        both screens, for as long as it is shown; so is the last recognized utterance."""
        fields = dict(fields)
        with self._lock:
            before = self._dialogue.get('state')
            session = str(fields.pop('session_id', '') or '')
            if self._subs.dialogue_state(session, fields.get('state') == 'idle' and before != 'idle'):
                # A new conversation (or the end of one): the next visitor must not read the last one's
                # sentences, nor see what the last one said.
                self._said = self._subs.shown()
                self._recognized = {}
            if fields.get('last_robot_text') != self._dialogue.get('last_robot_text'):
                self._robot_text_seq = self.seq + 1
            raw = fields.get('last_user_text') or ''
            checkin = fields.get('state') in CHECKIN_STATES or before in CHECKIN_STATES
            self._private_text = raw if raw and (checkin or raw == self._private_text) else ''
            fields['last_user_text'] = MASK if self._private_text else mask_numbers(raw)
            if fields.get('state') in CHECKIN_STATES and self._recognized.get('text'):
                self._recognized = {**self._recognized, 'text': MASK}
            self._dialogue = fields
            self._changed(now)

    def update_recognized(self, text: str, language: str, source: str, now: float) -> None:
        with self._lock:
            private = self._dialogue.get('state') in CHECKIN_STATES
            self._recognized = {'text': MASK if private and text else mask_numbers(text), 'language': language,
                                'source': source}
            self._changed(now)

    def update_said(self, text: str, language: str, now: float, utterance_id: str = '') -> None:
        """A sentence asked of the speech output (/speech/say). Shown at once only while no speech output
        has reported anything (a stack without TTS); otherwise when the TTS starts speaking it."""
        with self._lock:
            if self._subs.requested(utterance_id, text, language):
                self._said = self._subs.shown()
                self._said_seq = self.seq + 1
            self._changed(now)

    def update_speech_status(self, speaking: bool, text: str, language: str, now: float,
                             utterance_id: str = '') -> None:
        """The TTS speaks (or ends) a sentence: that is the subtitle, unless it was asked for in an earlier
        conversation (a backlog the speech output is still working through)."""
        with self._lock:
            self._speaking = speaking
            if self._subs.status(utterance_id, text, language):
                self._said = self._subs.shown()
                self._said_seq = self.seq + 1
            self._changed(now)

    def update_health(self, component: str, level: int, message: str, now: float) -> None:
        """The age shown beside each component goes out with the pusher's heartbeat each second."""
        with self._lock:
            old = self._health.get(component)
            self._health[component] = {'level': level, 'message': message, 'received': now}
            if old is None or (old['level'], old['message']) != (level, message) or \
                    now - old['received'] > self.stale_after_s:
                self._changed(now)
            else:
                self._heard(now)

    def update_alerts(self, alerts: list[dict[str, Any]], now: float) -> None:
        """The staff alerts (/office/alerts): every one not yet acknowledged or still active, newest first.

        Only the fields :func:`clean_alert` names are kept (alerts carry no visitor data, and nothing that
        could is taken over). An alert that leaves the list is settled (acknowledged and ended, the alerts
        node's rule); the history keeps the last :data:`ALERT_HISTORY` seen, settled ones included."""
        shown = [clean_alert(a) for a in alerts]
        with self._lock:
            if shown == self._alerts:
                self._heard(now)
                return
            listed = {a['id']: a for a in shown}
            seen = {h['id']: h if h['id'] in listed or not h['active'] and h['acknowledged']
                    else {**h, 'active': False, 'acknowledged': True} for h in self._alert_history}
            seen.update((i, dict(a)) for i, a in listed.items())
            history = sorted(seen.values(), key=lambda a: a['raised'], reverse=True)
            self._alert_history = history[:ALERT_HISTORY]
            self._alerts = shown
            self._changed(now)

    def update_office(self, status: dict[str, Any], now: float) -> None:
        """The office day (/office/status, latched, published on change)."""
        office = clean_office(status)
        with self._lock:
            if office == self._office:
                self._heard(now)
                return
            self._office = office
            self._changed(now)

    def alert_ids(self) -> set[str]:
        with self._lock:
            return {a['id'] for a in self._alerts}

    # --- snapshots (called from the web server) ------------------------------------------------
    def online(self, now: float) -> bool:
        """Whether anything from the robot stack arrived lately (the panel itself does not count)."""
        return now - self._last_heard <= self.stale_after_s

    def staff_snapshot(self, now: float) -> dict[str, Any]:
        with self._lock:
            pose = self._pose
            people = [dict(p) for p in self._people]
            escorted = self._escorted_id(pose, people)
            for p in people:
                p['escorted'] = p['id'] == escorted
            health = []
            for name, h in sorted(self._health.items()):
                age = now - h['received']
                stale = age > self.stale_after_s
                level = int(HealthLevel.STALE) if stale else h['level']
                health.append({'component': name, 'level': level, 'message': h['message'], 'age_s': round(age, 1),
                               'shown': health_shown(name, level, h['message'], self._safety['estop_active'])})
            return {
                'type': 'state', 'seq': self.seq, 'online': self.online(now), 'map_version': self.map_version,
                'robot': {'pose': pose.as_dict() if pose else None, **self._robot},
                'safety': dict(self._safety),
                'plan': self._plan, 'people': people, 'escort': self._escort,
                'dialogue': dict(self._dialogue),
                'speech': {'recognized': self._recognized, 'said': self._latest_said(), 'speaking': self._speaking},
                'health': health,
                # Staff only: never in the visitor screen's snapshot.
                'alerts': [dict(a) for a in self._alerts],
                'alert_history': [dict(a) for a in self._alert_history],
                'office': _copy_office(self._office),
            }

    def visitor_snapshot(self, now: float) -> dict[str, Any]:
        """``said`` is the robot's last spoken sentence from /speech/say or the TTS status: besides the
        dialogue's own lines it carries escort announcements and staff answers typed during a takeover,
        which hearing-impaired visitors can only read here. Empty when the dialogue's own
        ``last_robot_text`` is newer (the screen shows that then)."""
        with self._lock:
            d = self._dialogue
            said = self._latest_said()
            if said.get('language') and d.get('language') and said['language'] != d['language']:
                said = {}  # a sentence in another language is from before the visitor chose theirs
            return {
                'type': 'state', 'seq': self.seq, 'online': self.online(now),
                'estop': self._safety['estop_active'], 'speaking': self._speaking, 'said': said,
                'dialogue': {k: d.get(k) for k in ('state', 'language', 'choices', 'candidates', 'display_number',
                                                   'estimated_wait_minutes', 'last_user_text', 'last_robot_text',
                                                   'staff_takeover', 'target_id')},
                # Only what the screen tells visitors (closed, opens again at, escorts or directions only).
                'office': None if self._office is None else
                {k: _copy_office(self._office)[k] for k in VISITOR_OFFICE_KEYS},
            }

    def _latest_said(self) -> dict[str, Any]:
        """The sentence the TTS speaks now (or spoke last) in this conversation. Without a speech output:
        the last sentence asked for, unless the dialogue has shown a newer line of its own since."""
        if self._subs.tts_seen:
            return dict(self._said)
        return dict(self._said) if self._said_seq > self._robot_text_seq else {}

    def _escorted_id(self, pose: Pose2D | None, people: list[dict[str, Any]]) -> int | None:
        """The person whose distance to the robot best matches the escort's visitor distance."""
        esc = self._escort
        if not esc or pose is None or not people or esc.get('visitor_status', 0) in (0, 3):
            return None
        want = float(esc.get('visitor_distance', 0.0))
        best = min(people, key=lambda p: abs(math.hypot(p['x'] - pose.x, p['y'] - pose.y) - want))
        return best['id'] if abs(math.hypot(best['x'] - pose.x, best['y'] - pose.y) - want) < 0.75 else None


def _copy_office(office: dict[str, Any] | None) -> dict[str, Any] | None:
    if office is None:
        return None
    return {**office, 'alerts': list(office['alerts']), 'screen': list(office['screen'])}

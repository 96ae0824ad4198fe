"""The live picture both screens show, built from ROS messages as plain values (no ROS import here).

The node feeds it from its subscriptions; the web server pushes :meth:`PanelState.staff_snapshot`
to logged-in staff and the much smaller :meth:`PanelState.visitor_snapshot` to the robot's own
screen. Nothing in here is written anywhere: utterances are shown live and forgotten. What a message
becomes on a screen is :mod:`l2b2_panel.views`; the subtitle and privacy masking rules are
:mod:`l2b2_panel.subtitles`.
"""
from __future__ import annotations

import math
import threading
from typing import Any

from l2b2_common.codes import HealthLevel
from l2b2_common.geometry import Pose2D
from l2b2_panel.subtitles import CHECKIN_STATES, MASK, Subtitles, mask_numbers
from l2b2_panel.views import VISITOR_OFFICE_KEYS, FloorMap, clean_alert, clean_office, copy_office, health_shown

#: Alerts the staff page's history lists (the newest seen, acknowledged ones included).
ALERT_HISTORY = 20


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
                'office': copy_office(self._office),
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
                {k: copy_office(self._office)[k] for k in VISITOR_OFFICE_KEYS},
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

"""The live picture both screens show, built from ROS messages as plain values (no ROS import here).

The node feeds it from its subscriptions; the web server pushes :meth:`PanelState.staff_snapshot`
to logged-in staff and the much smaller :meth:`PanelState.visitor_snapshot` to the robot's own
screen. Nothing in here is written anywhere: utterances are shown live and forgotten.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
import math
from pathlib import Path
import threading
from typing import Any

import numpy as np
import yaml

#: ComponentHealth levels, mirrored so this module stays free of ROS.
OK, DEGRADED, ERROR, STALE = 0, 1, 2, 3


@dataclass(frozen=True)
class Pose2D:
    x: float
    y: float
    yaw: float

    def compose(self, other: Pose2D) -> Pose2D:
        """self ∘ other: ``other`` expressed in the frame ``self`` is given in."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return Pose2D(self.x + c * other.x - s * other.y, self.y + s * other.x + c * other.y,
                      _wrap(self.yaw + other.yaw))

    def as_dict(self) -> dict[str, float]:
        return {'x': round(self.x, 3), 'y': round(self.y, 3), 'yaw': round(self.yaw, 3)}


IDENTITY = Pose2D(0.0, 0.0, 0.0)


def _wrap(a: float) -> float:
    return math.atan2(math.sin(a), math.cos(a))


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


class FloorMap:
    """An occupancy grid as the browser draws it: row 0 at the bottom (origin), 0 free, 100 occupied, 255 unknown."""

    def __init__(self, width: int, height: int, resolution: float, origin: tuple[float, float, float],
                 cells: np.ndarray, source: str):
        self.width, self.height, self.resolution, self.origin = width, height, resolution, origin
        self.cells = cells.astype(np.uint8).reshape(height, width)
        self.source = source

    def as_dict(self) -> dict[str, Any]:
        return {'width': self.width, 'height': self.height, 'resolution': self.resolution,
                'origin': list(self.origin), 'source': self.source,
                'cells': base64.b64encode(self.cells.tobytes()).decode('ascii')}

    @classmethod
    def from_occupancy(cls, width: int, height: int, resolution: float, origin: tuple[float, float, float],
                       data: Any, source: str = '/map') -> FloorMap:
        raw = np.asarray(data, dtype=np.int16).reshape(height, width)
        cells = np.where(raw < 0, 255, np.clip(raw, 0, 100))
        return cls(width, height, resolution, origin, cells, source)

    @classmethod
    def from_map_yaml(cls, path: str | Path) -> FloorMap:
        """A Nav2 map_server map (YAML + PGM), trinary mode."""
        path = Path(path)
        meta = yaml.safe_load(path.read_text(encoding='utf-8'))
        image = read_pgm(path.parent / meta['image'])
        occ = image.astype(np.float64) / 255.0
        if not meta.get('negate', 0):
            occ = 1.0 - occ
        cells = np.full(image.shape, 255, dtype=np.uint8)
        cells[occ > float(meta.get('occupied_thresh', 0.65))] = 100
        cells[occ < float(meta.get('free_thresh', 0.25))] = 0
        origin = tuple(float(v) for v in meta.get('origin', [0.0, 0.0, 0.0]))
        height, width = image.shape
        # PGM row 0 is the top of the picture; the grid's row 0 is at the origin (bottom).
        return cls(width, height, float(meta['resolution']), origin, np.flipud(cells), str(path.name))


def read_pgm(path: str | Path) -> np.ndarray:
    """Binary (P5) or ASCII (P2) greymap, 8 bit, as a height x width array."""
    data = Path(path).read_bytes()
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        tokens.append(data[pos:end])
        pos = end
    magic, width, height, maxval = tokens[0], int(tokens[1]), int(tokens[2]), int(tokens[3])
    if maxval > 255:
        raise ValueError(f'{path}: only 8-bit PGM is supported')
    if magic == b'P5':
        pixels = np.frombuffer(data, dtype=np.uint8, count=width * height, offset=pos + 1)
    elif magic == b'P2':
        pixels = np.array(data[pos:].split()[:width * height], dtype=np.uint8)
    else:
        raise ValueError(f'{path}: not a PGM file')
    pixels = pixels.reshape(height, width)
    if maxval != 255:
        pixels = (pixels.astype(np.float64) * 255.0 / maxval).astype(np.uint8)
    return pixels


def load_waypoints(path: str | Path) -> dict[str, dict[str, float]]:
    data = yaml.safe_load(Path(path).read_text(encoding='utf-8')) or {}
    return {str(k): {'x': float(v['x']), 'y': float(v['y']), 'yaw': float(v.get('yaw', 0.0))}
            for k, v in (data.get('waypoints') or {}).items()}


class PanelState:
    """Thread-safe live state; every change bumps ``seq`` so the pusher knows when to send."""

    def __init__(self, stale_after_s: float = 3.0):
        self.stale_after_s = stale_after_s
        self._lock = threading.Lock()
        self.seq = 0
        self.map_version = 0
        self._map: FloorMap | None = None
        self._map_json: dict | None = None
        self.waypoints: dict[str, dict[str, float]] = {}
        self.targets: list[dict[str, Any]] = []
        self._map_to_odom = IDENTITY
        self._odom_to_base: Pose2D | None = None
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
        self._health: dict[str, dict[str, Any]] = {}
        self._last_heard = -math.inf

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

    def set_map_to_odom(self, pose: Pose2D) -> None:
        with self._lock:
            self._map_to_odom = pose
            self._changed()

    def set_odom_to_base(self, pose: Pose2D, now: float) -> None:
        with self._lock:
            self._odom_to_base = pose
            self._changed(now)

    def robot_pose(self) -> Pose2D | None:
        with self._lock:
            return None if self._odom_to_base is None else self._map_to_odom.compose(self._odom_to_base)

    def update_robot_status(self, mode: str, target: str, now: float) -> None:
        with self._lock:
            self._robot.update(mode=mode, target=target)
            self._changed(now)

    def update_battery(self, percent: float | None, charging: bool, now: float) -> None:
        with self._lock:
            self._robot['battery'] = None if percent is None else {'percent': round(percent, 1), 'charging': charging}
            self._changed(now)

    def update_safety(self, estop_active: bool, source: str, teleop_active: bool, now: float) -> None:
        with self._lock:
            self._safety = {'estop_active': estop_active, 'source': source, 'teleop_active': teleop_active,
                            'known': True}
            self._changed(now)

    def update_plan(self, points: list[tuple[float, float]], max_points: int = 300) -> None:
        step = max(1, math.ceil(len(points) / max_points))
        kept = points[::step]
        if points and kept[-1] != points[-1]:
            kept.append(points[-1])
        with self._lock:
            self._plan = [[round(x, 2), round(y, 2)] for x, y in kept]
            self._changed()

    def update_people(self, people: list[tuple[int, float, float]], now: float) -> None:
        with self._lock:
            self._people = [{'id': pid, 'x': round(x, 2), 'y': round(y, 2)} for pid, x, y in people]
            self._changed(now)

    def update_escort(self, feedback: dict[str, Any] | None) -> None:
        with self._lock:
            self._escort = feedback
            self._changed()

    def update_dialogue(self, fields: dict[str, Any], now: float) -> None:
        with self._lock:
            if fields.get('state') == 'idle' and self._dialogue.get('state') != 'idle':
                self._said = {}  # the conversation is over: the next visitor must not read the last one's
            if fields.get('last_robot_text') != self._dialogue.get('last_robot_text'):
                self._robot_text_seq = self.seq + 1
            self._dialogue = dict(fields)
            self._changed(now)

    def update_recognized(self, text: str, language: str, source: str, now: float) -> None:
        with self._lock:
            self._recognized = {'text': text, 'language': language, 'source': source}
            self._changed(now)

    def update_said(self, text: str, language: str, now: float) -> None:
        with self._lock:
            self._said = {'text': text, 'language': language}
            self._said_seq = self.seq + 1
            self._changed(now)

    def update_speech_status(self, speaking: bool, text: str, language: str, now: float) -> None:
        with self._lock:
            self._speaking = speaking
            if speaking and text and text != self._said.get('text'):
                self._said = {'text': text, 'language': language}
                self._said_seq = self.seq + 1
            self._changed(now)

    def update_health(self, component: str, level: int, message: str, now: float) -> None:
        with self._lock:
            self._health[component] = {'level': level, 'message': message, 'received': now}
            self._changed(now)

    # --- snapshots (called from the web server) ------------------------------------------------
    def online(self, now: float) -> bool:
        """Whether anything from the robot stack arrived lately (the panel itself does not count)."""
        return now - self._last_heard <= self.stale_after_s

    def staff_snapshot(self, now: float) -> dict[str, Any]:
        with self._lock:
            pose = None if self._odom_to_base is None else self._map_to_odom.compose(self._odom_to_base)
            people = [dict(p) for p in self._people]
            escorted = self._escorted_id(pose, people)
            for p in people:
                p['escorted'] = p['id'] == escorted
            health = []
            for name, h in sorted(self._health.items()):
                age = now - h['received']
                stale = age > self.stale_after_s
                health.append({'component': name, 'level': STALE if stale else h['level'],
                               'message': h['message'], 'age_s': round(age, 1)})
            return {
                'type': 'state', 'seq': self.seq, 'online': self.online(now), 'map_version': self.map_version,
                'robot': {'pose': pose.as_dict() if pose else None, **self._robot},
                'safety': dict(self._safety),
                'plan': self._plan, 'people': people, 'escort': self._escort,
                'dialogue': dict(self._dialogue),
                'speech': {'recognized': self._recognized, 'said': self._latest_said(), 'speaking': self._speaking},
                'health': health,
            }

    def visitor_snapshot(self, now: float) -> dict[str, Any]:
        """``said`` is the robot's last spoken sentence from /speech/say or the TTS status: besides the
        dialogue's own lines it carries escort announcements and staff answers typed during a takeover,
        which hearing-impaired visitors can only read here. Empty when the dialogue's own
        ``last_robot_text`` is newer (the screen shows that then)."""
        with self._lock:
            d = self._dialogue
            return {
                'type': 'state', 'seq': self.seq, 'online': self.online(now),
                'estop': self._safety['estop_active'], 'speaking': self._speaking, 'said': self._latest_said(),
                'dialogue': {k: d.get(k) for k in ('state', 'language', 'choices', 'candidates', 'display_number',
                                                   'estimated_wait_minutes', 'last_user_text', 'last_robot_text',
                                                   'staff_takeover', 'target_id')},
            }

    def _latest_said(self) -> dict[str, Any]:
        """The last spoken sentence, unless the dialogue has shown a newer line of its own since."""
        return dict(self._said) if self._said_seq > self._robot_text_seq else {}

    def _escorted_id(self, pose: Pose2D | None, people: list[dict[str, Any]]) -> int | None:
        """The person whose distance to the robot best matches the escort's visitor distance."""
        esc = self._escort
        if not esc or pose is None or not people or esc.get('visitor_status', 0) in (0, 3):
            return None
        want = float(esc.get('visitor_distance', 0.0))
        best = min(people, key=lambda p: abs(math.hypot(p['x'] - pose.x, p['y'] - pose.y) - want))
        return best['id'] if abs(math.hypot(best['x'] - pose.x, best['y'] - pose.y) - want) < 0.75 else None

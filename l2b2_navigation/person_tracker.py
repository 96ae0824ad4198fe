"""Finding and following people in a 2-D laser scan (no ROS here; ``person_tracker_node`` wraps it).

The pipeline, the same on the robot and in simulation:

1. *Segments*: neighbouring beams whose end points are close belong to one object.
2. *Candidates*: segments as wide as a leg or a body (walls and counters are wider), placed at the
   object's centre rather than its visible surface; two legs close together become one person.
3. *Static filter*: with a map, candidates on or right next to a wall, a counter or a door frame
   are dropped: people stand in free space.
4. *Tracks*: a constant-velocity Kalman filter per person; detections are assigned to tracks with
   the Hungarian method (``scipy.optimize.linear_sum_assignment``) inside a distance gate. A track is
   reported once seen a few times and forgotten after it has been missing for a while.
5. *Proximity*: APPROACHED when a person comes within greeting distance, LEFT when they go away.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import count
import math

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from l2b2_common.tunables import tunable


# ----------------------------------------------------------------------------------------- detect
@dataclass(frozen=True)
class DetectorConfig:
    """What counts as a person in a scan."""

    segment_jump: float = tunable(0.12, 'Neighbouring end points further apart than this start a new scan '
                                  'segment (m) ...', min=0.02, max=1.0)
    #: A 1° lidar's beams are 0.14 m apart at 8 m: a fixed jump alone would cut everything beyond ~7 m
    #: into single points and make ``max_range`` unreachable.
    segment_jump_beams: float = tunable(1.5, '... plus, far out, this many times the beam spacing beyond 0.8 '
                                        'segment_jump (the spacing grows with range).', min=0.0, max=10.0)
    min_points: int = tunable(2, 'Fewest end points of a person segment.', min=1, max=50)
    min_width: float = tunable(0.04, 'Narrowest segment taken for a leg (m).', min=0.0, max=1.0)
    leg_max_width: float = tunable(0.25, 'Widest segment taken for a leg (m).', min=0.05, max=1.0)
    body_max_width: float = tunable(0.75, 'Widest segment taken for a body (m).', min=0.1, max=2.0)
    merge_distance: float = tunable(0.55, 'Candidates closer than this are one person (two legs) (m).',
                                    min=0.0, max=2.0)
    max_range: float = tunable(8.0, 'People further away are ignored (m).', min=0.5, max=30.0)
    static_clearance: float = tunable(0.25, 'Minimum distance of a person from an occupied map cell (m): '
                                      'nearer candidates are walls, counters, door frames.', min=0.0, max=1.0)


def scan_points(ranges: Sequence[float], angle_min: float, angle_increment: float,
                range_min: float, range_max: float) -> tuple[np.ndarray, np.ndarray]:
    """End points (N, 2) in the scanner frame and the matching beam indices of the valid beams."""
    r = np.asarray(ranges, dtype=float)
    idx = np.flatnonzero(np.isfinite(r) & (r >= range_min) & (r <= range_max))
    angles = angle_min + idx * angle_increment
    return np.column_stack((r[idx] * np.cos(angles), r[idx] * np.sin(angles))), idx


def _full_circle_start(r: np.ndarray, angle_increment: float, jump: float) -> int:
    """For a 360° scan, a beam where a segment surely starts (so no object is split at the seam); else 0."""
    n = len(r)
    if n < 3 or abs(n * angle_increment) < 2 * math.pi - 1.5 * abs(angle_increment):
        return 0
    gaps = ~np.isfinite(r)
    if gaps.any():
        return int(np.flatnonzero(gaps)[0])
    return int(np.argmax(np.abs(np.diff(np.append(r, r[0])))) + 1) % n


def jump_thresholds(ranges: np.ndarray, angle_increment: float, jump: float, jump_beams: float) -> np.ndarray:
    """Per pair of neighbouring end points: how far apart they may be and still be one object (m).

    ``jump`` as long as neighbouring beams land well inside it (up to 0.8 ``jump`` apart: 5.5 m for a
    1° lidar and 0.12 m); further out the threshold grows by ``jump_beams`` times the extra beam
    spacing, which grows linearly with range: a fixed threshold would split every far object into
    single points.
    """
    r = np.asarray(ranges, dtype=float)
    if len(r) < 2:
        return np.zeros(0)
    spacing = np.minimum(r[:-1], r[1:]) * abs(angle_increment)
    return jump + jump_beams * np.maximum(0.0, spacing - 0.8 * jump)


def segment(points: np.ndarray, beams: np.ndarray, jump: float | np.ndarray) -> tuple[list[np.ndarray],
                                                                                     list[np.ndarray]]:
    """Split the ordered end points where neighbours are far apart or beams in between are missing.

    ``jump``: one threshold, or one per neighbouring pair (:func:`jump_thresholds`). Returns the
    segments' points and their beam indices.
    """
    if len(points) == 0:
        return [], []
    gaps = np.linalg.norm(np.diff(points, axis=0), axis=1) > jump
    gaps |= np.diff(beams) > 2
    cuts = np.flatnonzero(gaps) + 1
    return np.split(points, cuts), np.split(beams, cuts)


def detect_people(ranges: Sequence[float], angle_min: float, angle_increment: float, range_min: float,
                  range_max: float, config: DetectorConfig) -> np.ndarray:
    """Person candidates (M, 2) in the scanner frame, from leg- or body-sized segments.

    A person stands in front of what is behind them: the beams just beside a candidate segment must
    reach further (or nothing). That rules out pieces of walls seen at a grazing angle and corners.
    """
    r = np.asarray(ranges, dtype=float)
    r = np.where(np.isfinite(r) & (r >= range_min) & (r <= range_max), r, np.inf)
    start = _full_circle_start(r, angle_increment, config.segment_jump)
    if start:  # rotate a 360° scan so that the seam falls between two objects
        r = np.roll(r, -start)
        angle_min += start * angle_increment
    far = r
    points, beams = scan_points(r, angle_min, angle_increment, range_min, range_max)
    jumps = jump_thresholds(r[beams], angle_increment, config.segment_jump, config.segment_jump_beams)
    centres = []
    for seg, idx in zip(*segment(points, beams, jumps), strict=True):
        if len(seg) < config.min_points:
            continue
        width = float(np.linalg.norm(seg[-1] - seg[0]))
        if not config.min_width <= width <= config.body_max_width:
            continue
        mean = seg.mean(axis=0)
        dist = float(np.linalg.norm(mean))
        if dist > config.max_range or dist < 1e-6:
            continue
        before, after = far[(idx[0] - 1) % len(r)], far[(idx[-1] + 1) % len(r)]
        if min(before - r[idx[0]], after - r[idx[-1]]) < config.segment_jump:
            continue
        # The scanner sees the near half of a round object: its centre lies about 0.3 widths further away.
        centres.append(mean + mean / dist * 0.3 * width)
    return _merge(np.array(centres).reshape(-1, 2), config.merge_distance)


def _merge(candidates: np.ndarray, distance: float) -> np.ndarray:
    """Single-linkage grouping of candidates closer than ``distance``; each group becomes its mean."""
    if len(candidates) < 2:
        return candidates
    from scipy.cluster.hierarchy import fcluster, linkage
    labels = fcluster(linkage(candidates, method='single'), t=distance, criterion='distance')
    return np.array([candidates[labels == k].mean(axis=0) for k in np.unique(labels)])


class StaticMap:
    """Distance to the nearest occupied cell of an occupancy grid, for dropping wall-like candidates."""

    def __init__(self, occupied: np.ndarray, resolution: float, origin_x: float, origin_y: float):
        """``occupied``: boolean (rows = y, cols = x) with row 0 at ``origin_y``."""
        self.resolution, self.origin = resolution, (origin_x, origin_y)
        self._distance = ndimage.distance_transform_edt(~occupied) * resolution
        self.shape = occupied.shape

    @classmethod
    def from_occupancy(cls, data: Sequence[int], width: int, height: int, resolution: float,
                       origin_x: float, origin_y: float, threshold: int = 65) -> StaticMap:
        grid = np.asarray(data, dtype=np.int16).reshape(height, width)
        return cls(grid >= threshold, resolution, origin_x, origin_y)

    def clearance(self, points: np.ndarray) -> np.ndarray:
        """Distance (m) from each point to the nearest occupied cell; 0 outside the map."""
        cols = np.floor((points[:, 0] - self.origin[0]) / self.resolution).astype(int)
        rows = np.floor((points[:, 1] - self.origin[1]) / self.resolution).astype(int)
        inside = (rows >= 0) & (rows < self.shape[0]) & (cols >= 0) & (cols < self.shape[1])
        out = np.zeros(len(points))
        out[inside] = self._distance[rows[inside], cols[inside]]
        return out


# ----------------------------------------------------------------------------------------- track
@dataclass(frozen=True)
class TrackerConfig:
    gate: float = tunable(0.8, 'A detection further than this from a track prediction starts a new track (m).',
                          min=0.1, max=3.0)
    min_hits: int = tunable(3, 'Detections before a track is published.', min=1, max=50)
    max_missing_s: float = tunable(1.0, 'A track unseen this long is dropped (s).', min=0.1, max=30.0)
    accel_noise: float = tunable(1.5, 'Kalman process noise: acceleration (m/s²).', min=0.01, max=20.0)
    measurement_noise: float = tunable(0.08, 'Kalman measurement noise (m).', min=0.001, max=2.0)
    max_speed: float = tunable(2.5, 'Track speeds are capped at this (m/s).', min=0.1, max=20.0)


@dataclass
class Track:
    """One person over time; ``state`` is [x, y, vx, vy] in the map frame."""

    id: int
    state: np.ndarray
    cov: np.ndarray
    first_seen: float
    last_seen: float
    hits: int = 1

    @property
    def position(self) -> tuple[float, float]:
        return float(self.state[0]), float(self.state[1])

    @property
    def velocity(self) -> tuple[float, float]:
        return float(self.state[2]), float(self.state[3])


class PersonTracker:
    """Nearest-neighbour (Hungarian) association plus a constant-velocity Kalman filter per track."""

    def __init__(self, config: TrackerConfig | None = None):
        self.config = config or TrackerConfig()
        self._tracks: list[Track] = []
        self._ids = count(1)
        self._time: float | None = None

    def update(self, now: float, detections: np.ndarray) -> list[Track]:
        """Advance to ``now`` (s), fold in the detections (M, 2), return the confirmed tracks."""
        cfg = self.config
        dt = 0.0 if self._time is None else max(0.0, now - self._time)
        self._time = now
        for t in self._tracks:
            self._predict(t, dt)
        detections = np.asarray(detections, dtype=float).reshape(-1, 2)
        matched_dets: set[int] = set()
        if self._tracks and len(detections):
            predicted = np.array([t.state[:2] for t in self._tracks])
            cost = np.linalg.norm(predicted[:, None, :] - detections[None, :, :], axis=2)
            rows, cols = linear_sum_assignment(np.where(cost <= cfg.gate, cost, 1e6))
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] <= cfg.gate:
                    self._correct(self._tracks[r], detections[c], now)
                    matched_dets.add(int(c))
        for c, det in enumerate(detections):
            if c not in matched_dets:
                self._tracks.append(Track(next(self._ids), np.array([det[0], det[1], 0.0, 0.0]),
                                          np.diag([cfg.measurement_noise ** 2] * 2 + [1.0, 1.0]), now, now))
        self._tracks = [t for t in self._tracks if now - t.last_seen <= cfg.max_missing_s]
        return self.confirmed()

    def confirmed(self) -> list[Track]:
        return [t for t in self._tracks if t.hits >= self.config.min_hits]

    def confidence(self, track: Track) -> float:
        seen = min(1.0, track.hits / (2.0 * self.config.min_hits))
        missing = 0.0 if self._time is None else (self._time - track.last_seen) / self.config.max_missing_s
        return max(0.0, seen * (1.0 - 0.5 * missing))

    def _predict(self, t: Track, dt: float) -> None:
        if dt <= 0.0:
            return
        f = np.eye(4)
        f[0, 2] = f[1, 3] = dt
        q = self.config.accel_noise ** 2
        g = np.array([[dt * dt / 2, 0], [0, dt * dt / 2], [dt, 0], [0, dt]])
        t.state = f @ t.state
        t.cov = f @ t.cov @ f.T + g @ g.T * q

    def _correct(self, t: Track, z: np.ndarray, now: float) -> None:
        h = np.eye(2, 4)
        r = np.eye(2) * self.config.measurement_noise ** 2
        innovation = z - h @ t.state
        s = h @ t.cov @ h.T + r
        k = t.cov @ h.T @ np.linalg.inv(s)
        t.state = t.state + k @ innovation
        t.cov = (np.eye(4) - k @ h) @ t.cov
        speed = math.hypot(t.state[2], t.state[3])
        if speed > self.config.max_speed:
            t.state[2:] *= self.config.max_speed / speed
        t.last_seen, t.hits = now, t.hits + 1


# ----------------------------------------------------------------------------------------- events
APPROACHED, LEFT = 0, 1


@dataclass
class ProximityMonitor:
    """Who is within greeting distance of the robot: APPROACHED once on entering, LEFT on leaving or vanishing."""

    greeting_distance: float = tunable(1.5, 'A person this close to the robot raises APPROACHED (m).',
                                       min=0.3, max=5.0)
    #: Hysteresis.
    leave_margin: float = tunable(0.5, 'LEFT is raised beyond greeting distance plus this margin (m).',
                                  min=0.0, max=3.0)
    _near: dict[int, float] = field(default_factory=dict)

    def update(self, robot_x: float, robot_y: float,
               people: Iterable[tuple[int, float, float]]) -> list[tuple[int, int, float]]:
        """``people``: (id, x, y). Returns events as (APPROACHED or LEFT, id, distance)."""
        events, present = [], {}
        for pid, x, y in people:
            present[pid] = math.hypot(x - robot_x, y - robot_y)
        for pid, dist in present.items():
            if pid not in self._near and dist <= self.greeting_distance:
                self._near[pid] = dist
                events.append((APPROACHED, pid, dist))
        for pid in list(self._near):
            dist = present.get(pid)
            if dist is None or dist > self.greeting_distance + self.leave_margin:
                del self._near[pid]
                events.append((LEFT, pid, dist if dist is not None else math.nan))
        return events

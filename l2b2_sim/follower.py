"""Path following for a differential drive: regulated pure pursuit plus an in-place turn and a goal turn.

The same idea as Nav2's Regulated Pure Pursuit controller (which ``config/nav2_params.yaml`` uses on
the real robot): steer toward a point ``lookahead`` ahead on the path, slow down in tight turns and
near the goal, turn on the spot when the path points far away, then turn to the goal's heading.
Also here: the forward obstacle check on the lidar points. No ROS import.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from l2b2_common.geometry import Pose2D, wrap_angle
from l2b2_common.tunables import tunable


@dataclass(frozen=True)
class FollowerParams:
    max_linear_speed: float = tunable(0.8, 'Fastest forward speed (m/s).', min=0.05, max=3.0)
    max_angular_speed: float = tunable(1.2, 'Fastest turn (rad/s).', min=0.1, max=6.0)
    lookahead: float = tunable(0.8, 'Pure-pursuit lookahead distance (m).', min=0.1, max=5.0)
    xy_goal_tolerance: float = tunable(0.25, 'Goal reached within this distance (m).', min=0.01, max=2.0)
    yaw_goal_tolerance: float = tunable(0.25, 'Goal heading reached within this angle (rad).', min=0.01, max=3.2)
    rotate_in_place_angle: float = tunable(0.9, 'Turn on the spot when the lookahead point is more than this '
                                           'off the heading (rad).', min=0.1, max=3.2)
    approach_distance: float = tunable(1.0, 'Slow down linearly within this distance of the goal (m) ...',
                                       min=0.0, max=10.0)
    min_approach_speed: float = tunable(0.1, '... to at least this speed (m/s).', min=0.01, max=3.0)
    heading_gain: float = tunable(2.0, 'Turn rate per radian of heading error (1/s).', min=0.1, max=20.0)


@dataclass
class Command:
    v: float
    w: float
    done: bool
    remaining: float


class PathFollower:
    """Follows one path to a goal pose; ``update`` is called at the control rate with the robot pose."""

    def __init__(self, path: list[tuple[float, float]], goal_yaw: float, params: FollowerParams | None = None):
        if not path:
            raise ValueError('empty path')
        self.path = path
        self.goal_yaw = goal_yaw
        self.p = params or FollowerParams()
        # Cumulative arc length from the path's start, for the distance remaining.
        self._s = [0.0]
        for a, b in zip(path, path[1:], strict=False):
            self._s.append(self._s[-1] + math.dist(a, b))
        self._index = 0
        self._goal_reached = False

    def remaining(self, pose: Pose2D) -> float:
        nearest = self.path[self._index]
        return math.dist((pose.x, pose.y), nearest) + self._s[-1] - self._s[self._index]

    def update(self, pose: Pose2D) -> Command:
        p = self.p
        gx, gy = self.path[-1]
        to_goal = math.hypot(gx - pose.x, gy - pose.y)
        if self._goal_reached or to_goal <= p.xy_goal_tolerance:
            self._goal_reached = True  # latch: small drift while turning does not restart driving
            err = wrap_angle(self.goal_yaw - pose.yaw)
            if abs(err) <= p.yaw_goal_tolerance:
                return Command(0.0, 0.0, True, 0.0)
            return Command(0.0, _clamp(p.heading_gain * err, p.max_angular_speed, 0.3), False, 0.0)

        self._advance(pose)
        tx, ty = self._lookahead_point(pose)
        alpha = wrap_angle(math.atan2(ty - pose.y, tx - pose.x) - pose.yaw)
        remaining = self.remaining(pose)
        if abs(alpha) > p.rotate_in_place_angle:
            return Command(0.0, _clamp(p.heading_gain * alpha, p.max_angular_speed, 0.3), False, remaining)
        dist = max(math.hypot(tx - pose.x, ty - pose.y), 1e-3)
        curvature = 2.0 * math.sin(alpha) / dist
        v = p.max_linear_speed
        if remaining < p.approach_distance:
            v = max(p.min_approach_speed, v * remaining / p.approach_distance)
        if abs(curvature) * v > p.max_angular_speed:  # regulate: slow down in tight turns
            v = p.max_angular_speed / abs(curvature)
        return Command(v, v * curvature, False, remaining)

    def _advance(self, pose: Pose2D) -> None:
        """Move the nearest-point index forward (never back) within a window ahead."""
        best, best_d = self._index, math.inf
        end = min(len(self.path), self._index + 60)
        for i in range(self._index, end):
            d = math.hypot(self.path[i][0] - pose.x, self.path[i][1] - pose.y)
            if d < best_d:
                best, best_d = i, d
        self._index = best

    def _lookahead_point(self, pose: Pose2D) -> tuple[float, float]:
        for i in range(self._index, len(self.path)):
            x, y = self.path[i]
            if math.hypot(x - pose.x, y - pose.y) >= self.p.lookahead:
                return x, y
        return self.path[-1]


def _clamp(w: float, limit: float, minimum: float) -> float:
    w = max(-limit, min(limit, w))
    if 0 < abs(w) < minimum:
        w = math.copysign(minimum, w)
    return w


def clearance_ahead(points: list[tuple[float, float]], robot_radius: float, margin: float = 0.1) -> float:
    """Free distance from the footprint's front to the nearest lidar point (robot frame, x forward) in the
    corridor the robot drives into; infinite when the corridor is empty."""
    half_width = robot_radius + margin
    ahead = [x for x, y in points if x > 0.0 and abs(y) < half_width]
    return max(0.0, min(ahead) - robot_radius) if ahead else math.inf


def stopping_distance(speed: float, decel: float, reaction_s: float) -> float:
    """Metres the robot covers from ``speed`` before it stands: it drives on for ``reaction_s`` (a scan
    and a control period pass before a stop command lands), then brakes at ``decel``."""
    return speed * reaction_s + speed * speed / (2.0 * decel)


def stopping_speed(free: float, decel: float, reaction_s: float) -> float:
    """Fastest forward speed from which the robot still stops within ``free`` metres: the inverse of
    ``stopping_distance``. As Nav2's collision monitor ("approach" zone), the robot slows down toward
    a person instead of braking late.
    """
    if free <= 0.0:
        return 0.0
    if math.isinf(free):
        return math.inf
    a_t = decel * reaction_s
    return -a_t + math.sqrt(a_t * a_t + 2.0 * decel * free)

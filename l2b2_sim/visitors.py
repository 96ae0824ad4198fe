"""Simulated visitors: people who approach the robot, follow it, dawdle, stop, wander off or leave.

Pure logic (no ROS, no pybullet): the simulator moves each visitor's body to the position computed
here. A follower walks along the robot's own trail (where the robot fitted, a person fits), at its
own speed, keeping ``follow_distance`` behind; goal-seeking behaviours walk a planned path.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import math
import random

#: A follower this far ahead of the robot (m), in its path, steps aside.
MAKE_WAY_AHEAD = 2.5

BEHAVIOURS = ('approach', 'follow', 'dawdle', 'stop', 'wander_off', 'leave', 'remove')

#: plan(start, goal) -> list of points (empty: no way there)
PathPlanner = Callable[[tuple[float, float], tuple[float, float]], list]


@dataclass
class Visitor:
    id: int
    x: float
    y: float
    yaw: float = 0.0
    behaviour: str = 'stop'
    speed: float = 1.0
    follow_distance: float = 1.2
    #: dawdle: walk ``dawdle_walk_s`` then stand ``dawdle_pause_s``, repeatedly
    dawdle_walk_s: float = 4.0
    dawdle_pause_s: float = 3.0
    vx: float = 0.0
    vy: float = 0.0
    gone: bool = False
    # follow state: own trail of points with cumulative arc length, and progress along it
    trail: list[tuple[float, float, float]] = field(default_factory=list)
    progress: float = 0.0
    # goal-walking state
    path: list[tuple[float, float]] = field(default_factory=list)
    behaviour_time: float = 0.0


class Crowd:
    """All visitors of a scenario, stepped together with the robot's pose."""

    def __init__(self, planner: PathPlanner, exit_point: tuple[float, float], *, robot_radius: float = 0.4,
                 visitor_radius: float = 0.2, seed: int = 0, free: Callable[[float, float], bool] | None = None):
        self.visitors: dict[int, Visitor] = {}
        self._planner = planner
        self._exit = exit_point
        self._free = free or (lambda x, y: True)
        self._keep_clear = robot_radius + visitor_radius + 0.15
        self._rng = random.Random(seed)
        self._next_id = 1

    def reset(self) -> None:
        self.visitors.clear()
        self._next_id = 1

    def spawn(self, x: float, y: float, yaw: float = 0.0, visitor_id: int = 0) -> Visitor:
        if visitor_id <= 0:
            visitor_id = self._next_id
        if visitor_id in self.visitors:
            raise ValueError(f'visitor {visitor_id} exists already')
        self._next_id = max(self._next_id, visitor_id + 1)
        v = Visitor(visitor_id, x, y, yaw)
        self.visitors[visitor_id] = v
        return v

    def set_behaviour(self, visitor_id: int, behaviour: str, robot: tuple[float, float, float], *,
                      speed: float = 0.0, follow_distance: float = 0.0,
                      goal: tuple[float, float] | None = None) -> Visitor:
        """Give a visitor a new behaviour; raises ValueError for unknown ids, behaviours or unreachable goals."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f'unknown behaviour {behaviour!r} (one of {", ".join(BEHAVIOURS)})')
        v = self.visitors.get(visitor_id)
        if v is None:
            raise ValueError(f'no visitor {visitor_id}')
        if behaviour == 'remove':
            del self.visitors[visitor_id]
            return v
        if speed > 0:
            v.speed = speed
        elif behaviour == 'dawdle':
            v.speed = min(v.speed, 0.5)
        if follow_distance > 0:
            v.follow_distance = max(follow_distance, self._keep_clear)
        v.behaviour, v.behaviour_time, v.path = behaviour, 0.0, []
        if behaviour in ('follow', 'dawdle'):
            # The way to the robot first (around walls, if the visitor is not right behind it).
            v.trail = [(v.x, v.y, 0.0)]
            v.progress = 0.0
            for x, y in (self._planner((v.x, v.y), (robot[0], robot[1])) or [])[1:]:
                self._extend_trail(v, x, y)
            self._extend_trail(v, robot[0], robot[1])
        elif behaviour in ('approach', 'wander_off', 'leave'):
            if goal is None:
                goal = self._default_goal(behaviour, robot)
            path = self._planner((v.x, v.y), goal)
            if not path:
                raise ValueError(f'visitor {visitor_id}: no way to ({goal[0]:.2f}, {goal[1]:.2f})')
            v.path = list(path[1:])
        return v

    def _default_goal(self, behaviour: str, robot) -> tuple[float, float]:
        rx, ry, ryaw = robot
        if behaviour == 'approach':  # about 1 m in front of the robot
            return rx + 1.1 * math.cos(ryaw), ry + 1.1 * math.sin(ryaw)
        if behaviour == 'leave':
            return self._exit
        for _ in range(200):  # wander off: a free spot well away from the robot
            angle = self._rng.uniform(-math.pi, math.pi)
            dist = self._rng.uniform(6.0, 12.0)
            gx, gy = rx + dist * math.cos(angle), ry + dist * math.sin(angle)
            if self._free(gx, gy) and self._planner((rx, ry), (gx, gy)):
                return gx, gy
        return self._exit

    @staticmethod
    def _extend_trail(v: Visitor, x: float, y: float) -> None:
        lx, ly, ls = v.trail[-1]
        d = math.hypot(x - lx, y - ly)
        if d >= 0.05:
            v.trail.append((x, y, ls + d))

    def step(self, dt: float, robot: tuple[float, float, float]) -> None:
        rx, ry, _ = robot
        for v in list(self.visitors.values()):
            v.behaviour_time += dt
            ox, oy = v.x, v.y
            if v.behaviour in ('follow', 'dawdle'):
                self._extend_trail(v, rx, ry)
                walking = True
                if v.behaviour == 'dawdle':
                    cycle = v.dawdle_walk_s + v.dawdle_pause_s
                    walking = (v.behaviour_time % cycle) < v.dawdle_walk_s
                target = v.trail[-1][2] - v.follow_distance
                progress = min(target, v.progress + v.speed * dt) if walking and v.progress < target else v.progress
                if not self._make_way(v, robot, dt):
                    # Back onto the trail at walking pace (after stepping aside), or on along it.
                    x, y = _towards((v.x, v.y), _along(v.trail, progress), max(v.speed, 0.5) * dt)
                    near = math.hypot(x - rx, y - ry)
                    # Not into the robot either: a robot that turns back along its own trail (to its goal,
                    # round an obstacle) comes towards its follower, who waits for it to pass.
                    if (x, y) != (ox, oy) and (near >= self._keep_clear or near >= math.hypot(ox - rx, oy - ry)):
                        v.progress, v.x, v.y = progress, x, y
            elif v.behaviour in ('approach', 'wander_off', 'leave') and v.path:
                step = v.speed * dt
                while step > 0 and v.path:
                    tx, ty = v.path[0]
                    d = math.hypot(tx - v.x, ty - v.y)
                    if d <= step:
                        v.x, v.y = tx, ty
                        v.path.pop(0)
                        step -= d
                    else:
                        v.x += (tx - v.x) / d * step
                        v.y += (ty - v.y) / d * step
                        step = 0
                near = math.hypot(v.x - rx, v.y - ry)
                if near < self._keep_clear and near < math.hypot(ox - rx, oy - ry):
                    v.x, v.y = ox, oy  # a person does not walk into the robot: wait (but may step away)
                if not v.path and v.behaviour == 'leave':
                    v.gone = True
                    del self.visitors[v.id]
            moved_x, moved_y = v.x - ox, v.y - oy
            v.vx, v.vy = moved_x / dt, moved_y / dt
            if math.hypot(moved_x, moved_y) > 1e-4:
                v.yaw = math.atan2(moved_y, moved_x)
            elif v.behaviour in ('approach', 'follow', 'dawdle', 'stop'):
                v.yaw = math.atan2(ry - v.y, rx - v.x)

    def _make_way(self, v: Visitor, robot: tuple[float, float, float], dt: float) -> bool:
        """A follower in the robot's way (it turned back to reach its goal or to pass something) steps
        aside, as people do; standing there, they would block it for good. True while in its way."""
        rx, ry, ryaw = robot
        c, s = math.cos(ryaw), math.sin(ryaw)
        dx, dy = v.x - rx, v.y - ry
        ahead, side = dx * c + dy * s, -dx * s + dy * c
        if not (0.0 < ahead < MAKE_WAY_AHEAD and abs(side) < self._keep_clear + 0.1):
            return False
        step = v.speed * dt
        for sign in ((1.0, -1.0) if side >= 0 else (-1.0, 1.0)):
            x, y = v.x - s * sign * step, v.y + c * sign * step
            if self._free(x, y):
                v.x, v.y = x, y
                break
        return True


def _towards(here: tuple[float, float], there: tuple[float, float], most: float) -> tuple[float, float]:
    """A step from ``here`` to ``there`` of at most ``most`` metres."""
    dx, dy = there[0] - here[0], there[1] - here[1]
    d = math.hypot(dx, dy)
    if d <= most:
        return there
    return here[0] + dx / d * most, here[1] + dy / d * most


def _along(trail: list[tuple[float, float, float]], s: float) -> tuple[float, float]:
    """The point at arc length ``s`` of a trail (binary search on the cumulative lengths)."""
    lo, hi = 0, len(trail) - 1
    if s <= 0 or hi == 0:
        return trail[0][0], trail[0][1]
    if s >= trail[-1][2]:
        return trail[-1][0], trail[-1][1]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if trail[mid][2] <= s:
            lo = mid
        else:
            hi = mid
    x0, y0, s0 = trail[lo]
    x1, y1, s1 = trail[hi]
    f = (s - s0) / (s1 - s0) if s1 > s0 else 0.0
    return x0 + f * (x1 - x0), y0 + f * (y1 - y0)

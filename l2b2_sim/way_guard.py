"""People in the way of the stand-in navigator: slow down, stop, wait, re-plan, give up (no ROS here).

What Nav2 does on the robot with the collision monitor and our behaviour tree for a public office
(issue 18): the robot slows toward what the lidar sees ahead so that it can always stop
``stop_distance`` short of it; when it would only creep, the way counts as blocked and the robot
stands; every ``replan_after_blocked_s`` it tries a path around what blocks it; after
``blocked_timeout_s`` the goal is given up with a reason the escort can say. It never backs up or
spins near people. One :class:`WayGuard` per goal; ``SimNavigatorNode`` feeds it each control step.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from l2b2_common.tunables import tunable
from l2b2_sim.follower import clearance_ahead, stopping_distance, stopping_speed

#: Below this allowed speed the way counts as blocked (the robot would only creep) (m/s).
MIN_CREEP_SPEED = 0.05


@dataclass(frozen=True)
class GuardParams:
    stop_distance: float = tunable(0.45, 'Stop when a scan point is this close ahead of the footprint (m).',
                                   min=0.05, max=3.0)
    max_linear_decel: float = tunable(1.0, 'Braking the base can do (m/s²): the robot slows toward what is ahead '
                                      'so that it can always stop stop_distance short of it.', min=0.1, max=10.0)
    reaction_time_s: float = tunable(0.2, 'Time before a stop command takes effect (a scan and a control '
                                     'period) (s).', min=0.0, max=2.0)
    replan_after_blocked_s: float = tunable(2.0, 'Re-plan around what blocks the way after this long (sim s).',
                                            min=0.1, max=60.0)
    blocked_timeout_s: float = tunable(60.0, 'Give the goal up when still blocked after this long (sim s).',
                                       min=1.0, max=3600.0)


@dataclass(frozen=True)
class GuardStep:
    """What to command now, and whether to re-plan or give up (``abort``: the reason)."""

    v: float
    w: float
    replan: bool = False
    abort: str = ''
    #: The way just became blocked / free again (for the log and health).
    blocked_now: bool = False
    cleared_now: bool = False


class WayGuard:
    """The blocked-way rule and speed limit for one goal."""

    def __init__(self, params: GuardParams, robot_radius: float, max_linear_speed: float):
        self.p, self.robot_radius, self.max_linear_speed = params, robot_radius, max_linear_speed
        self.blocked_since: float | None = None
        self.last_replan = -math.inf
        #: Re-plans around obstacles so far (Nav2's number_of_recoveries).
        self.recoveries = 0

    @property
    def reach(self) -> float:
        """How far ahead (m, from the robot's centre) a scan point can matter at full speed."""
        p = self.p
        braking = stopping_distance(self.max_linear_speed, p.max_linear_decel, p.reaction_time_s)
        return self.robot_radius + p.stop_distance + braking + 0.2

    def speed_limit(self, points: list[tuple[float, float]]) -> float:
        """Fastest forward speed that still stops ``stop_distance`` short of the nearest of ``points``
        (robot frame, x forward) in the corridor the robot drives into."""
        free = clearance_ahead(points, self.robot_radius) - self.p.stop_distance
        return stopping_speed(free, self.p.max_linear_decel, self.p.reaction_time_s)

    def step(self, now: float, v: float, w: float, points: list[tuple[float, float]]) -> GuardStep:
        """The follower asks for (v, w); ``points``: what the lidar sees within :attr:`reach` (robot frame,
        the map's own walls left out: those are the planner's business)."""
        limit = self.speed_limit(points) if v > 0 else math.inf
        if v > 0 and limit < MIN_CREEP_SPEED:
            if self.blocked_since is None:
                self.blocked_since = now
                return GuardStep(0.0, 0.0, blocked_now=True)
            if now - self.blocked_since > self.p.blocked_timeout_s:
                return GuardStep(0.0, 0.0, abort=f'way blocked for {self.p.blocked_timeout_s:.0f} s')
            wait = self.p.replan_after_blocked_s
            if now - self.blocked_since >= wait and now - self.last_replan >= wait:
                self.last_replan = now
                self.recoveries += 1
                return GuardStep(0.0, 0.0, replan=True)
            return GuardStep(0.0, 0.0)
        if v > limit:  # slow down toward what is ahead, on the same curve
            v, w = limit, w * limit / v
        cleared = self.blocked_since is not None
        self.blocked_since = None
        return GuardStep(v, w, cleared_now=cleared)

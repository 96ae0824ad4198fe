"""Differential-drive kinematics with speed and acceleration limits, and a command watchdog.

The base accepts (v, w) like a real motor controller: clamped to its limits, ramped by its
accelerations, and stopped when no command arrived for ``cmd_timeout`` seconds (sim time).
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from l2b2_common.geometry import Pose2D, wrap_angle
from l2b2_common.tunables import tunable


@dataclass(frozen=True)
class DriveLimits:
    max_linear_speed: float = tunable(0.8, 'Base speed limit (m/s).', min=0.0, max=3.0)
    max_angular_speed: float = tunable(1.5, 'Base turn-rate limit (rad/s).', min=0.0, max=6.0)
    linear_accel: float = tunable(1.0, 'Base acceleration (m/s²).', min=0.01, max=10.0)
    angular_accel: float = tunable(3.0, 'Base angular acceleration (rad/s²).', min=0.01, max=20.0)
    cmd_timeout_s: float = tunable(0.5, 'The base stops when no /cmd_vel arrived for this long (sim s).',
                                   min=0.05, max=5.0)


def _toward(current: float, target: float, step: float) -> float:
    return min(target, current + step) if target > current else max(target, current - step)


class DiffDrive:
    """Integrates the commanded twist into a pose; ``step`` returns the pose it proposes."""

    def __init__(self, limits: DriveLimits | None = None, pose: Pose2D | None = None):
        self.limits = limits or DriveLimits()
        self.pose = pose or Pose2D()
        self.v = 0.0
        self.w = 0.0
        self._cmd = (0.0, 0.0)
        self._cmd_time = -math.inf
        self.odometer = 0.0

    def command(self, v: float, w: float, now: float) -> None:
        lim = self.limits
        self._cmd = (max(-lim.max_linear_speed, min(lim.max_linear_speed, v)), max(-lim.max_angular_speed, min(lim.max_angular_speed, w)))
        self._cmd_time = now

    def stop(self) -> None:
        self.v = self.w = 0.0
        self._cmd = (0.0, 0.0)

    def propose(self, dt: float, now: float) -> tuple[Pose2D, float, float]:
        """The pose, v and w after ``dt`` if nothing is in the way (``accept`` makes it so)."""
        lim = self.limits
        target_v, target_w = self._cmd if now - self._cmd_time <= lim.cmd_timeout_s else (0.0, 0.0)
        v = _toward(self.v, target_v, lim.linear_accel * dt)
        w = _toward(self.w, target_w, lim.angular_accel * dt)
        p = self.pose
        yaw_mid = p.yaw + 0.5 * w * dt
        new = Pose2D(p.x + v * math.cos(yaw_mid) * dt, p.y + v * math.sin(yaw_mid) * dt, wrap_angle(p.yaw + w * dt))
        return new, v, w

    def accept(self, pose: Pose2D, v: float, w: float) -> None:
        self.odometer += math.hypot(pose.x - self.pose.x, pose.y - self.pose.y)
        self.pose, self.v, self.w = pose, v, w

    def blocked(self) -> None:
        """The proposed pose collided: the base stands (a bumper would stop it)."""
        self.v = self.w = 0.0

"""The rule that decides what reaches the robot base: emergency stop beats teleop beats navigation.

Pure logic (no ROS): the node feeds it commands and the time, and publishes what it returns.
:class:`GateLimits` is the single source of the gate's limits: each field is also the node's ROS
parameter of the same name (l2b2_common.tunables), with its description and range.
"""
from __future__ import annotations

from dataclasses import dataclass

from l2b2_common.tunables import tunable

ZERO = (0.0, 0.0)


@dataclass(frozen=True)
class GateLimits:
    max_linear_mps: float = tunable(0.8, 'Speed limit for navigation commands (m/s).', min=0.0, max=2.0)
    max_angular_rps: float = tunable(1.5, 'Turn-rate limit for every command (rad/s).', min=0.0, max=6.0)
    teleop_max_linear_mps: float = tunable(0.5, 'Speed limit for the staff joystick (m/s).', min=0.0, max=2.0)
    deadman_timeout_s: float = tunable(
        0.3, 'Teleop stops when no joystick command arrived for this long: the staff member let go (s).',
        min=0.05, max=2.0)
    nav_timeout_s: float = tunable(
        0.5, 'A navigation command older than this is stale (the controller died) and ignored (s).',
        min=0.05, max=5.0)


class SafetyGate:
    """Chooses the velocity command (linear m/s, angular rad/s) for the base."""

    def __init__(self, limits: GateLimits = GateLimits(), engaged: bool = False):
        self.limits = limits
        self.estop_active = engaged
        self.estop_source = 'start-up' if engaged else ''
        self._teleop: tuple[float, float] = ZERO
        self._teleop_at: float | None = None
        self._nav: tuple[float, float] = ZERO
        self._nav_at: float | None = None

    def engage(self, source: str) -> bool:
        """Latch the stop; returns True if this changed anything."""
        changed = not self.estop_active
        self.estop_active, self.estop_source = True, source
        self._teleop_at = self._nav_at = None
        return changed

    def release(self, source: str) -> bool:
        """Deliberate resume. Old commands are forgotten: nothing moves until a new one arrives."""
        changed = self.estop_active
        self.estop_active, self.estop_source = False, source
        self._teleop_at = self._nav_at = None
        return changed

    def teleop(self, linear: float, angular: float, now: float) -> None:
        self._teleop, self._teleop_at = (linear, angular), now

    def nav(self, linear: float, angular: float, now: float) -> None:
        self._nav, self._nav_at = (linear, angular), now

    def teleop_active(self, now: float) -> bool:
        return (not self.estop_active and self._teleop_at is not None
                and now - self._teleop_at <= self.limits.deadman_timeout_s)

    def command(self, now: float) -> tuple[float, float]:
        """The command to send to the base at time ``now`` (seconds, any monotonic clock)."""
        if self.estop_active:
            return ZERO
        if self.teleop_active(now):
            return self._clamp(self._teleop, self.limits.teleop_max_linear_mps)
        if self._teleop_at is not None and (self._nav_at is None or self._nav_at <= self._teleop_at):
            # The joystick was let go and navigation has not spoken since: hold still.
            return ZERO
        if self._nav_at is not None and now - self._nav_at <= self.limits.nav_timeout_s:
            return self._clamp(self._nav, self.limits.max_linear_mps)
        return ZERO

    def _clamp(self, cmd: tuple[float, float], max_linear: float) -> tuple[float, float]:
        linear = max(-max_linear, min(max_linear, cmd[0]))
        angular = max(-self.limits.max_angular_rps, min(self.limits.max_angular_rps, cmd[1]))
        return (linear, angular)

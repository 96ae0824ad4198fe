"""The staff joystick's dead-man rule, as plain logic (no ROS) like the safety gate's :class:`SafetyGate`.

The page sends its deflection about 20 times a second while the joystick is held. The node re-sends
the last deflection on its own ticks, but only while the *next* tick still falls inside the dead-man
window: the safety gate stops on its own dead-man after the last command it got, and re-publishing
until our window ran out stacked the two (the robot stopped ~350 ms after the page went quiet).
Sending the zero 1.5 ticks early keeps the whole path from the last browser command within
``deadman_s``; half a tick of that is margin for the way from the browser to the node and on to the gate.

The node asks :meth:`TeleopDeadman.tick` what to publish and publishes it; ``None`` means nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
import threading

ZERO = (0.0, 0.0)


@dataclass(frozen=True)
class Held:
    """The joystick as the page last reported it: who holds it, the deflection (-1..1), when."""

    owner: int
    linear: float
    angular: float
    stamp: float


class TeleopDeadman:
    """Thread-safe: commands and releases come from the web thread, ticks from the executor."""

    def __init__(self, deadman_s: float, rate_hz: float, max_linear_mps: float, max_angular_rps: float):
        self.deadman_s, self.rate_hz = deadman_s, rate_hz
        self.max_linear_mps, self.max_angular_rps = max_linear_mps, max_angular_rps
        self._lock = threading.Lock()
        self._held: Held | None = None
        self._active = False

    @property
    def held(self) -> Held | None:
        """The joystick's last report while it still drives; ``None`` when nobody drives."""
        return self._held

    @property
    def active(self) -> bool:
        """Whether the last published command was a deflection (not the final zero)."""
        return self._active

    def command(self, owner: int, linear: float, angular: float, now: float) -> tuple[float, float]:
        """A fresh deflection from the page: the velocity to publish at once."""
        with self._lock:
            self._held, self._active = Held(owner, linear, angular, now), True
        return self._velocity(linear, angular)

    def release(self, owner: int) -> bool:
        """The page let go (or went away): True if this owner was driving (then publish one zero)."""
        with self._lock:
            if self._held is None or self._held.owner != owner:
                return False
            self._held, self._active = None, False
        return True

    def stop(self) -> tuple[float, float]:
        """Whoever holds the joystick, stop now (emergency stop): publish the returned zero."""
        with self._lock:
            self._held, self._active = None, False
        return ZERO

    def tick(self, now: float) -> tuple[float, float] | None:
        """On each tick: the held deflection while the next tick is inside the dead-man, then one zero,
        then nothing (``None``) until the next command."""
        with self._lock:
            held = self._held
            if held is None:
                return None
            if now - held.stamp + 1.5 / self.rate_hz <= self.deadman_s:
                self._active = True
                return self._velocity(held.linear, held.angular)
            self._held, self._active = None, False
            return ZERO

    def _velocity(self, linear: float, angular: float) -> tuple[float, float]:
        return linear * self.max_linear_mps, angular * self.max_angular_rps

"""The simulated battery and the charge thresholds the day cycle acts on (issue 16, item 2).

Pure Python (no ROS): the node feeds it what the robot did during each step (driving, speaking, on the
charging dock) and publishes the result; the tests drive it with a fake clock.

Energy model (all powers in watts, additive):

- ``idle_w`` is drawn all the time off the dock: computer, sensors, screen, microphones.
- ``driving_w`` is drawn on top while the base drives (motors and the extra compute of navigation).
- ``speaking_w`` is drawn on top while the robot speaks (amplifier and speech synthesis).
- On the dock the charger also powers the robot: the battery gains ``charging_w`` (net), tapering off
  linearly above ``taper_start_percent`` down to ``taper_min_fraction`` of it, like a CC-CV charger.

The defaults assume a typical office day of :data:`TYPICAL_DUTY` -- 15 % of the time driving (escorts and
returns home), 10 % speaking, the rest idle at home -- which draws 20 + 0.15 x 40 + 0.10 x 10 = 27 W on
average, so a full 480 Wh battery lasts 480 / 27 = 17.8 h, "about 18 hours". Charging from empty takes
2.4 h to 80 % and about 4 h to full.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import math

#: Battery levels, as the day cycle sees them.
OK, LOW, CRITICAL = 'ok', 'low', 'critical'
#: Events of :class:`BatteryPolicy`, the day cycle's battery inputs.
BATTERY_LOW, BATTERY_CRITICAL, BATTERY_OK_TO_RESUME = 'battery_low', 'battery_critical', 'battery_ok_to_resume'


@dataclass(frozen=True)
class DutyCycle:
    """Fractions of time the robot drives and speaks (the rest is idle); they may overlap in reality,
    the model simply adds the loads."""

    driving: float = 0.15
    speaking: float = 0.10

    def __post_init__(self):
        if not (0.0 <= self.driving <= 1.0 and 0.0 <= self.speaking <= 1.0):
            raise ValueError('duty fractions must be between 0 and 1')


#: The assumed typical office day the defaults are sized for (see the module docstring).
TYPICAL_DUTY = DutyCycle()


@dataclass
class BatteryModel:
    """A battery as stored energy: drains by load, charges on the dock, reports percent and times."""

    capacity_wh: float = 480.0
    idle_w: float = 20.0
    driving_w: float = 40.0
    speaking_w: float = 10.0
    charging_w: float = 160.0
    #: Above this charge the charging power falls linearly towards ``taper_min_fraction`` at 100 %;
    #: 100 switches the taper off.
    taper_start_percent: float = 80.0
    taper_min_fraction: float = 0.2
    #: Start charge in percent.
    initial_percent: float = 100.0
    energy_wh: float = field(init=False)
    #: Whether the last step was on the charging dock (for the panel).
    charging: bool = field(init=False, default=False)

    def __post_init__(self):
        for name in ('capacity_wh', 'charging_w'):
            if getattr(self, name) <= 0:
                raise ValueError(f'{name} must be positive')
        for name in ('idle_w', 'driving_w', 'speaking_w'):
            if getattr(self, name) < 0:
                raise ValueError(f'{name} must not be negative')
        if not 0.0 < self.taper_start_percent <= 100.0:
            raise ValueError('taper_start_percent must be in (0, 100]')
        if not 0.0 < self.taper_min_fraction <= 1.0:
            raise ValueError('taper_min_fraction must be in (0, 1]')
        if not 0.0 <= self.initial_percent <= 100.0:
            raise ValueError('initial_percent must be in [0, 100]')
        self.energy_wh = self.capacity_wh * self.initial_percent / 100.0

    @property
    def percent(self) -> float:
        return 100.0 * self.energy_wh / self.capacity_wh

    def load_w(self, driving: bool = False, speaking: bool = False) -> float:
        """The power drawn off the dock."""
        return self.idle_w + (self.driving_w if driving else 0.0) + (self.speaking_w if speaking else 0.0)

    def typical_load_w(self, duty: DutyCycle = TYPICAL_DUTY) -> float:
        """The average power of a day with ``duty``."""
        return self.idle_w + duty.driving * self.driving_w + duty.speaking * self.speaking_w

    def charge_power_w(self, percent: float | None = None) -> float:
        """The net power into the battery on the dock at ``percent`` (default: now)."""
        p = self.percent if percent is None else percent
        if p >= 100.0:
            return 0.0
        if self.taper_start_percent >= 100.0 or p <= self.taper_start_percent:
            return self.charging_w
        fraction = (100.0 - p) / (100.0 - self.taper_start_percent)
        return self.charging_w * max(self.taper_min_fraction, fraction)

    def step(self, dt_s: float, driving: bool = False, speaking: bool = False, charging: bool = False) -> float:
        """Advance ``dt_s`` seconds; returns the new percent.

        On the dock the charger powers the robot, so only charging counts. The taper is integrated in
        closed form, so the result does not depend on how often the node calls this.
        """
        if dt_s < 0:
            raise ValueError('dt_s must not be negative')
        self.charging = charging
        if not charging:
            self.energy_wh = max(0.0, self.energy_wh - self.load_w(driving, speaking) * dt_s / 3600.0)
        else:
            self.energy_wh = self.capacity_wh * self._charged_percent(self.percent, dt_s) / 100.0
        return self.percent

    def time_to_full_s(self) -> float:
        """Seconds on the dock until 100 %, from the taper's closed form."""
        return self._charge_time_s(self.percent, 100.0)

    def time_to_empty_s(self, load_w: float | None = None) -> float:
        """Seconds until empty at ``load_w`` (default: the typical day's average); inf without load."""
        load = self.typical_load_w() if load_w is None else load_w
        return math.inf if load <= 0 else self.energy_wh / load * 3600.0

    def _charged_percent(self, start: float, dt_s: float) -> float:
        """The charge after ``dt_s`` seconds on the dock from ``start`` percent (the inverse of _charge_time_s)."""
        rate = self.charging_w / self.capacity_wh * 100.0 / 3600.0
        p, left = start, dt_s
        if self.taper_start_percent < 100.0:
            span = 100.0 - self.taper_start_percent
            floor_at = 100.0 - self.taper_min_fraction * span
            if p < self.taper_start_percent:
                t = (self.taper_start_percent - p) / rate
                if left <= t:
                    return p + rate * left
                p, left = self.taper_start_percent, left - t
            if p < floor_at:
                t = self._charge_time_s(p, floor_at)
                if left <= t:
                    return 100.0 - (100.0 - p) * math.exp(-rate * left / span)
                p, left = floor_at, left - t
            return min(100.0, p + rate * self.taper_min_fraction * left)
        return min(100.0, p + rate * left)

    def _charge_time_s(self, start: float, end: float) -> float:
        """Seconds to charge from ``start`` to ``end`` percent."""
        if end <= start:
            return 0.0
        rate = self.charging_w / self.capacity_wh * 100.0 / 3600.0  # percent per second at full power
        t = 0.0
        flat_end = min(end, self.taper_start_percent) if self.taper_start_percent < 100.0 else end
        if start < flat_end:
            t += (flat_end - start) / rate
            start = flat_end
        if start >= end:
            return t
        # Taper: d(100 - p)/dt = -rate (100 - p) / span until the floor, then constant rate x floor.
        span = 100.0 - self.taper_start_percent
        floor_at = 100.0 - self.taper_min_fraction * span
        exp_end = min(end, floor_at)
        if start < exp_end:
            t += span / rate * math.log((100.0 - start) / (100.0 - exp_end))
            start = exp_end
        if start < end:
            t += (end - start) / (rate * self.taper_min_fraction)
        return t


@dataclass
class BatteryPolicy:
    """Turns the charge into the day cycle's battery events, with hysteresis.

    ``battery_low`` below ``low_percent`` and ``battery_critical`` below ``critical_percent``, each once;
    the level stays low (or critical) until the charge is back at ``resume_percent``, which fires
    ``battery_ok_to_resume``. The gap between low and resume keeps the robot from flapping at the edge.
    """

    low_percent: float = 20.0
    critical_percent: float = 8.0
    resume_percent: float = 80.0
    level: str = field(init=False, default=OK)

    def __post_init__(self):
        if not 0.0 <= self.critical_percent < self.low_percent < self.resume_percent <= 100.0:
            raise ValueError('need 0 <= critical_percent < low_percent < resume_percent <= 100')

    def update(self, percent: float) -> list[str]:
        """The events for the new charge ``percent`` (usually none)."""
        if percent < self.critical_percent and self.level != CRITICAL:
            events = [BATTERY_CRITICAL] if self.level == LOW else [BATTERY_LOW, BATTERY_CRITICAL]
            self.level = CRITICAL
            return events
        if percent < self.low_percent and self.level == OK:
            self.level = LOW
            return [BATTERY_LOW]
        if percent >= self.resume_percent and self.level != OK:
            self.level = OK
            return [BATTERY_OK_TO_RESUME]
        return []

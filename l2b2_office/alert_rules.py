"""When to raise and when to clear a staff alert, from what the stack reports (issue 16). Pure Python.

:class:`AlertRules` is fed observations — the safety gate's stop, the escort's feedback, goal status
and health, the battery, every component's health — each with ``now`` (monotonic seconds, so a test
passes a fake clock), and answers with :class:`Decision` s: raise or clear ``kind`` from ``source``.
Each condition is reported once when it starts and once when it ends; time-based ones are checked on
:meth:`AlertRules.tick` as well.

Where each alert comes from:

* ``estop`` (safety_gate): ``SafetyState.estop_active`` on /safety/state; cleared on release.
* ``stuck`` (escort): an escort goal in a moving phase (navigating, retrying) whose robot neither moved
  nor came closer by ``progress_m`` for ``stuck_after_s`` (time under a held stop does not count;
  waiting for the visitor and a staff pause are deliberate); also when the escort reports a failed
  navigation after its own retries (health DEGRADED "escort to … failed: …" / "could not return
  home: …"). Cleared by progress, the goal's end, or the escort's health moving on.
* ``visitor_lost`` (escort): the escort's health "visitor lost on the way to …" (its TellStaff when it
  gives up; the trip is over by then, so its feedback rarely shows it) or feedback ``visitor_status``
  VISITOR_LOST. Cleared when the escort reports something else (next trip, back home).
* ``battery_critical`` (battery): BatteryState.percentage (0..1 as the message defines it and the
  simulator publishes) below ``battery_critical_percent``; cleared at ``battery_clear_percent`` or above.
* ``queue_down`` (queue_bridge): the queue bridge's health ERROR (system unreachable, circuit open,
  login refused) for ``queue_down_after_s``; cleared when it is no longer ERROR.
* ``node_missing`` (<component>): a component seen on /l2b2/health (or listed as expected) not heard for
  ``node_missing_after_s`` (health goes out every second), or reporting ERROR for that long (not the
  queue bridge: its ERROR is the appointment system's, ``queue_down``); cleared when it reports again
  without ERROR.
* ``checkin_failures`` (dialogue): the dialogue's health DEGRADED with its fixed message
  :data:`~l2b2_dialogue.checkin.CHECKIN_ALERT`; cleared when its health says something else.
"""
from __future__ import annotations

from dataclasses import dataclass
import math

from l2b2_common.codes import HealthLevel, VisitorStatus
from l2b2_common.tunables import tunable
from l2b2_dialogue.checkin import CHECKIN_ALERT
from l2b2_office.alerts import SOURCE_PATTERN

#: Escort phases in which the robot should be getting somewhere (escort.Phase values).
MOVING_PHASES = frozenset({'navigating', 'retrying'})
#: Components tracked for ``node_missing`` at most (health from anyone must not grow memory without end).
MAX_COMPONENTS = 100


@dataclass(frozen=True)
class RuleConfig:
    """Thresholds of the alert rules (ROS parameters of the alerts node, config/alerts.yaml)."""

    stuck_after_s: float = tunable(60.0, 'An escort without progress this long raises "stuck" (s).',
                                   min=0.1, max=3600.0)
    progress_m: float = tunable(0.3, 'Movement or approach that counts as progress (m).', min=0.01, max=10.0)
    battery_critical_percent: float = tunable(10.0, 'Battery below this raises "battery_critical" (%).',
                                              min=0.0, max=100.0)
    battery_clear_percent: float = tunable(15.0, 'The battery alert clears at this charge or above (%), '
                                           'above the critical level so that a noisy reading does not flap.',
                                           min=0.0, max=100.0)
    queue_down_after_s: float = tunable(60.0, 'The appointment system in ERROR this long raises "queue_down" (s).',
                                        min=0.0, max=86400.0)
    node_missing_after_s: float = tunable(15.0, 'A component silent on /l2b2/health (it reports every second) '
                                          'or in ERROR this long raises "node_missing" (s).', min=0.1, max=3600.0)
    expected_components: list = tunable([], 'Components that must report even if never heard since start, '
                                        'e.g. [escort, dialogue, queue_bridge]; others count once seen.',
                                        item_type=str)


@dataclass(frozen=True)
class Decision:
    """Raise (``raise_`` True) or clear ``kind`` from ``source``."""

    raise_: bool
    kind: str
    source: str


@dataclass
class _Component:
    last_seen: float
    error_since: float | None = None


class AlertRules:
    """All rules with their state; every ``on_*`` and :meth:`tick` returns the decisions it leads to."""

    def __init__(self, config: RuleConfig, now: float, *, self_component: str = 'alerts'):
        self.config = config
        self._self = self_component
        self._on: set[tuple[str, str]] = set()  # (kind, source) currently raised
        self._estop = False
        # escort
        self._goal: str | None = None
        self._ended: set[str] = set()
        self._phase = ''
        self._ref: tuple[float, float, float, float] | None = None  # x, y, distance, time of last progress
        self._nav_failed = False
        self._health_lost = False
        self._lost_goal: str | None = None
        # battery, health
        self._battery_low = False
        self._components: dict[str, _Component] = {c: _Component(now) for c in config.expected_components
                                                    if SOURCE_PATTERN.fullmatch(c)}
        self._queue_error_since: float | None = None
        self._checkin = False

    # -- observations -------------------------------------------------------------------------------------------
    def on_safety(self, estop_active: bool, now: float) -> list[Decision]:
        if self._estop and not estop_active and self._ref is not None:
            self._ref = (*self._ref[:3], now)  # the stop was nobody's lack of progress
        self._estop = bool(estop_active)
        return self._set('estop', 'safety_gate', self._estop) + self.tick(now)

    def on_escort_feedback(self, goal: str, phase: str, distance_remaining: float, visitor_status: int,
                           x: float | None, y: float | None, now: float) -> list[Decision]:
        """One Escort feedback (``distance_remaining`` < 0: unknown; ``x``/``y`` None: no pose)."""
        if goal in self._ended:
            return []  # a late feedback of a finished goal
        if goal != self._goal:
            self._goal, self._ref, self._lost_goal = goal, None, None
        self._phase = phase
        dist = distance_remaining if math.isfinite(distance_remaining) and distance_remaining >= 0 else math.nan
        px = x if x is not None and math.isfinite(x) else math.nan
        py = y if y is not None and math.isfinite(y) else math.nan
        if self._ref is None or phase not in MOVING_PHASES or self._progressed(px, py, dist):
            self._ref = (px, py, dist, now)
        if visitor_status == VisitorStatus.VISITOR_LOST:
            self._lost_goal = goal
        return self._set('visitor_lost', 'escort', self._visitor_lost) + self.tick(now)

    def on_escort_status(self, goals: list[tuple[str, bool]], now: float) -> list[Decision]:
        """The escort's goal status list: (goal id, finished) per goal."""
        for goal, finished in goals:
            if finished:
                self._ended.add(goal)
                if goal == self._goal:
                    self._goal, self._ref, self._phase = None, None, ''
        if len(self._ended) > 1000:  # only a late feedback needs them; old ids go
            self._ended = {g for g, finished in goals if finished}
        return self.tick(now)

    def on_battery(self, fraction: float, now: float) -> list[Decision]:
        """BatteryState.percentage: 0..1; NaN (unknown) changes nothing."""
        if not math.isfinite(fraction):
            return []
        percent = fraction * 100.0
        if percent < self.config.battery_critical_percent:
            self._battery_low = True
        elif percent >= self.config.battery_clear_percent:
            self._battery_low = False
        return self._set('battery_critical', 'battery', self._battery_low)

    def on_health(self, component: str, level: int, message: str, now: float) -> list[Decision]:
        """One ComponentHealth from /l2b2/health (also the periodic heartbeat)."""
        if component == self._self or not SOURCE_PATTERN.fullmatch(component or ''):
            return []
        entry = self._components.get(component)
        if entry is None:
            if len(self._components) >= MAX_COMPONENTS:
                return []
            entry = self._components[component] = _Component(now)
        entry.last_seen = now
        error = level == HealthLevel.ERROR
        if not error:
            entry.error_since = None
        elif entry.error_since is None:
            entry.error_since = now
        decisions: list[Decision] = []
        if component == 'queue_bridge':
            if not error:
                self._queue_error_since = None
            elif self._queue_error_since is None:
                self._queue_error_since = now
        elif component == 'escort':
            degraded = level == HealthLevel.DEGRADED
            self._nav_failed = degraded and (
                (message.startswith('escort to ') and ' failed' in message)
                or message.startswith('could not return home'))
            self._health_lost = degraded and message.startswith('visitor lost')
            if level == HealthLevel.OK:
                self._lost_goal = None  # a new trip, arrived, at home: the lost visitor is history
            decisions += self._set('visitor_lost', 'escort', self._visitor_lost)
        elif component == 'dialogue':
            self._checkin = level == HealthLevel.DEGRADED and message == CHECKIN_ALERT
            decisions += self._set('checkin_failures', 'dialogue', self._checkin)
        return decisions + self.tick(now)

    def tick(self, now: float) -> list[Decision]:
        """The time-based rules: stuck, queue down, node missing."""
        cfg = self.config
        if self._estop and self._ref is not None:
            self._ref = (*self._ref[:3], now)
        no_progress = (self._goal is not None and self._phase in MOVING_PHASES and self._ref is not None
                       and now - self._ref[3] >= cfg.stuck_after_s)
        decisions = self._set('stuck', 'escort', no_progress or self._nav_failed)
        queue_down = self._queue_error_since is not None and now - self._queue_error_since >= cfg.queue_down_after_s
        decisions += self._set('queue_down', 'queue_bridge', queue_down)
        for name, c in self._components.items():
            silent = now - c.last_seen >= cfg.node_missing_after_s
            failing = (name != 'queue_bridge' and c.error_since is not None
                       and now - c.error_since >= cfg.node_missing_after_s)
            decisions += self._set('node_missing', name, silent or failing)
        return decisions

    # -- internals ----------------------------------------------------------------------------------------------
    @property
    def _visitor_lost(self) -> bool:
        return self._health_lost or self._lost_goal is not None

    def _progressed(self, x: float, y: float, dist: float) -> bool:
        rx, ry, rdist, _t = self._ref
        step = self.config.progress_m
        moved = math.isfinite(x) and math.isfinite(rx) and math.hypot(x - rx, y - ry) >= step
        closer = math.isfinite(dist) and math.isfinite(rdist) and rdist - dist >= step
        return moved or closer

    def _set(self, kind: str, source: str, on: bool) -> list[Decision]:
        key = (kind, source)
        if on == (key in self._on):
            return []
        if on:
            self._on.add(key)
        else:
            self._on.discard(key)
        return [Decision(on, kind, source)]

"""What a simulated office day is made of: the visitor and robot models, the settings, the visitors they draw
and the day's result (:mod:`l2b2_office.day_sim` plays the day).

Kept apart from the event loop so that each module stays small and the plain inputs the benchmark and the tests
set (``l2b2-bench day``'s :class:`DaySettings`) read without the simulation's machinery.

Visitors (see :class:`VisitorModel`): ``visitors_per_month`` over ``opening_days_per_month`` opening days
(Ludwigsburg: about 3,500 a month over 21 days, 167 a day) arrive as a non-homogeneous Poisson process over the
day's opening hours with the rate ``base x (1 + peak_height x exp(-((h - peak_hour) / peak_width_h)^2 / 2))``
(``h`` the local hour; a morning peak around 09:30, three times the base rate), scaled so that the day's expected
total is the daily mean. Each has a language, an intent (escort to a department, check-in, ticket, question),
a conversation length and, for an escort, the walking distance from home to the department's waypoint (straight
line x ``detour``, at ``walk_speed`` m/s; the robot returns alone at the same speed). The robot serves one
visitor at a time; the others wait up to their patience, then leave. An escort the day cycle refuses because of
the battery is counted in ``visitors_refused_low_battery``; that visitor still gets directions on the screen
and counts as served.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
import math
import random

from l2b2_common.catalog import Catalog
from l2b2_office.day_cycle import OfficeCalendar

#: A normal Monday (no holiday) in December 2026.
DEFAULT_DATE = date(2026, 12, 7)
#: The benchmark's battery: small enough that the morning needs a charge (the real one, 480 Wh, lasts a day).
BENCH_CAPACITY_WH = 100.0
INTENTS = ('escort', 'checkin', 'ticket', 'question')


@dataclass(frozen=True)
class VisitorModel:
    """Who comes, when, and what they want."""

    visitors_per_month: float = 3500.0
    opening_days_per_month: float = 21.0
    #: Morning peak: centre (local hour), width (h, one standard deviation) and height over the base rate.
    peak_hour: float = 9.5
    peak_width_h: float = 1.0
    peak_height: float = 2.0
    languages: tuple[tuple[str, float], ...] = (('de', 0.70), ('tr', 0.15), ('en', 0.15))
    intents: tuple[tuple[str, float], ...] = (('escort', 0.40), ('checkin', 0.20), ('ticket', 0.15),
                                              ('question', 0.25))
    #: Which department visitors want (among those open when they arrive).
    departments: tuple[tuple[str, float], ...] = (
        ('pass_ausweis', 0.32), ('meldestelle', 0.28), ('auslaenderbehoerde', 0.12), ('standesamt', 0.07),
        ('kasse', 0.06), ('fundbuero', 0.05), ('parkausweis', 0.05), ('gewerbeamt', 0.05))
    #: Median conversation length by intent (s); lengths are log-normal with ``conversation_sigma``.
    conversation_median_s: tuple[tuple[str, float], ...] = (('escort', 45.0), ('checkin', 90.0),
                                                             ('ticket', 60.0), ('question', 40.0))
    conversation_sigma: float = 0.4
    #: How long a visitor waits for the robot before leaving (uniform, s).
    patience_s: tuple[float, float] = (60.0, 300.0)
    walk_speed: float = 0.5
    #: Corridors are longer than the straight line between two waypoints.
    detour: float = 1.3
    #: Time at the department before the robot turns back (s).
    handover_s: float = 15.0
    #: One utterance (and answer) every this many seconds of a conversation.
    utterance_every_s: float = 20.0
    answer_s: tuple[float, float] = (0.4, 2.0)
    not_understood_rate: float = 0.05
    visitor_lost_rate: float = 0.02

    @property
    def daily_mean(self) -> float:
        return self.visitors_per_month / self.opening_days_per_month

    def weight(self, hour: float) -> float:
        """The relative arrival rate at local hour ``hour`` (1 = the base rate)."""
        return 1.0 + self.peak_height * math.exp(-0.5 * ((hour - self.peak_hour) / self.peak_width_h) ** 2)


@dataclass(frozen=True)
class RobotModel:
    """How long the robot's own moves take (s)."""

    undock_s: float = 20.0
    #: From home to the dock's staging pose and onto the charger.
    dock_s: float = 45.0
    #: Fraction of a conversation the robot itself speaks.
    talk_share: float = 0.5
    #: After a critical stop staff push the robot onto the dock this much later.
    staff_rescue_s: float = 600.0


@dataclass(frozen=True)
class DaySettings:
    day: date = DEFAULT_DATE
    seed: int = 1
    capacity_wh: float | None = BENCH_CAPACITY_WH  # None: config/office.yaml's
    initial_percent: float = 100.0
    tick_s: float = 1.0
    #: The simulation runs from this long before the first opening to this long after the last closing.
    lead_min: float = 30.0
    tail_min: float = 60.0
    visitors: VisitorModel = field(default_factory=VisitorModel)
    robot: RobotModel = field(default_factory=RobotModel)
    office_config: str | None = None
    catalog: str | None = None
    waypoints: str | None = None
    #: SQLite file for the figures; None: a temporary one.
    database: str | None = None


@dataclass
class Visitor:
    id: int
    arrived: datetime
    language: str
    intent: str
    department: str
    conversation_s: float
    patience_s: float


@dataclass
class DayResult:
    """The day's outcome: figures (the benchmark's JSON keys), hourly rows and the comparison's details."""

    figures: dict
    hours: list[dict]
    truth: dict[str, int]
    stored: dict[str, int]
    mismatches: list[str]
    events: list[str]


def _hour_of(t: datetime) -> float:
    return t.hour + t.minute / 60.0 + t.second / 3600.0


def _pick(rng: random.Random, table: tuple[tuple[str, float], ...], allowed: set[str] | None = None) -> str:
    items = [(k, w) for k, w in table if allowed is None or k in allowed] or list(table)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def draw_visitors(vm: VisitorModel, intervals: list[tuple[datetime, datetime]], rng: random.Random,
                  calendar: OfficeCalendar, catalog: Catalog) -> list[Visitor]:
    """The day's visitors: thinning of a Poisson process with the rate curve over the opening intervals.

    Draws from ``rng`` in a fixed order, so that the same seed gives the same visitors."""
    if not intervals:
        return []
    step = 60.0
    integral = 0.0  # hours at the base rate
    for start, end in intervals:
        t = start
        while t < end:
            dt = min(step, (end - t).total_seconds())
            mid = t + timedelta(seconds=dt / 2)
            integral += vm.weight(_hour_of(mid)) * dt / 3600.0
            t += timedelta(seconds=dt)
    base = vm.daily_mean / integral  # visitors per hour at weight 1
    peak = base * (1.0 + vm.peak_height)  # the curve's maximum bounds it
    visitors: list[Visitor] = []
    for start, end in intervals:
        t = start
        while True:
            t += timedelta(hours=rng.expovariate(peak))
            if t >= end:
                break
            if rng.random() * peak <= base * vm.weight(_hour_of(t)):
                visitors.append(_make_visitor(vm, rng, calendar, catalog, len(visitors) + 1, t))
    return visitors


def _make_visitor(vm: VisitorModel, rng: random.Random, calendar: OfficeCalendar, catalog: Catalog, n: int,
                  t: datetime) -> Visitor:
    language = _pick(rng, vm.languages)
    intent = _pick(rng, vm.intents)
    open_now = {tid for tid, _ in vm.departments if calendar.is_open(tid, t)}
    if intent in ('checkin', 'ticket'):
        open_now = {tid for tid in open_now if catalog[tid].scope_id is not None}
    department = _pick(rng, vm.departments, open_now)
    median = dict(vm.conversation_median_s)[intent]
    length = median * math.exp(rng.gauss(0.0, vm.conversation_sigma))
    return Visitor(n, t, language, intent, department, length, rng.uniform(*vm.patience_s))

"""A simulated office day (issue 16 benchmark): opening to closing in sim time, driving the real office logic.

Pure Python, no ROS, deterministic for a seed. A discrete-event loop plays one day of the Bürgerbüro and feeds
the project's own rules exactly as the nodes do, so the figures say how *that* logic copes with a day:

* :class:`~l2b2_office.day_cycle.DayCycle` on :class:`~l2b2_office.day_cycle.OfficeCalendar` (the catalog's
  opening hours, config/office.yaml's holidays): the clock every ``tick_s``, ``visitor_busy`` while a visitor is
  served, the battery events, and the results of the dock / undock it orders. Its commands are carried out with
  durations (undocking, going home, docking); ``stop_here`` leaves the robot where it is until staff put it on
  the dock.
* :class:`~l2b2_office.battery.BatteryModel` and :class:`~l2b2_office.battery.BatteryPolicy` from
  config/office.yaml, with a smaller ``capacity_wh`` for the benchmark (so that a charge is needed during the
  day): idle all the time off the dock, driving on undock / dock / go home / escorts, speaking for
  ``talk_share`` of every conversation, charging on the dock.
* :class:`~l2b2_office.alert_rules.AlertRules` + :class:`~l2b2_office.alerts.AlertBook`: the battery charge and
  the escort's "visitor lost" health go in as the alerts node feeds them; the raised alerts are counted.
* :class:`~l2b2_office.figures_recorder.FiguresRecorder` into a :class:`~l2b2_office.figures.FiguresStore`
  (temporary SQLite file): the same calls the figures node makes -- ``person_approached``, ``dialogue``,
  ``visitor_spoke`` / ``robot_said``, ``escort_finished``, ``alerts`` -- and afterwards the stored day is
  compared with the simulation's own counts (``figures_match_truth``).

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

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
import heapq
import math
from pathlib import Path
import random
import tempfile

from l2b2_common.catalog import Catalog, load_catalog
from l2b2_common.codes import EscortOutcome, HealthLevel
from l2b2_common.maps import Waypoint, load_waypoints, require_waypoints
from l2b2_office import day_cycle as dc
from l2b2_office.alert_rules import AlertRules, Decision, RuleConfig
from l2b2_office.alerts import AlertBook
from l2b2_office.figures import FiguresStore, column
from l2b2_office.figures_recorder import AlertView, DialogueUpdate, FiguresRecorder, escort_label
from l2b2_office.office_config import OfficeConfig, load_office_config

#: A normal Monday (no holiday) in December 2026.
DEFAULT_DATE = date(2026, 12, 7)
#: The benchmark's battery: small enough that the morning needs a charge (the real one, 480 Wh, lasts a day).
BENCH_CAPACITY_WH = 100.0
INTENTS = ('escort', 'checkin', 'ticket', 'question')
#: The dialogue's intent name of each visitor intent (what /dialogue/state shows).
DIALOGUE_INTENT = {'escort': 'escort', 'checkin': 'appointment_checkin', 'ticket': 'ticket',
                   'question': 'opening_hours'}
WAITING_AREA = 'wartebereich'


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


class OfficeDay:
    """One day; :meth:`run` plays it and returns a :class:`DayResult`."""

    def __init__(self, settings: DaySettings = DaySettings(), config: OfficeConfig | None = None,
                 catalog: Catalog | None = None, waypoints: dict[str, Waypoint] | None = None):
        self.s = s = settings
        self.config = config or load_office_config(s.office_config)
        self.catalog = catalog or load_catalog(s.catalog)
        self.waypoints = waypoints or load_waypoints(s.waypoints)
        require_waypoints(self.waypoints, [self.catalog.home_waypoint] + [t.waypoint for t in
                                                                          self.catalog.targets.values()])
        self.rng = random.Random(s.seed)
        self.tz = self.config.tz
        self.calendar = dc.OfficeCalendar.from_catalog(self.catalog, self.config.holidays, self.tz)
        self.cycle = dc.DayCycle(self.calendar, self.config.day_cycle, docked=True)
        battery = self.config.battery_model(s.initial_percent)
        self.battery = battery if s.capacity_wh is None else replace(battery, capacity_wh=s.capacity_wh)
        self.policy = self.config.battery_policy()
        self.rules = AlertRules(RuleConfig(), 0.0)
        self.raised: Counter[str] = Counter()
        self.book = AlertBook(on_raise=lambda a: self.raised.update([a.kind]))
        self.intervals = self.calendar.office_intervals(s.day)
        if self.intervals:
            self.start = self.intervals[0][0] - timedelta(minutes=s.lead_min)
            self.end = self.intervals[-1][1] + timedelta(minutes=s.tail_min)
        else:  # a holiday or a closed day: watch the robot stay on the dock for a normal day's span
            self.start = datetime.combine(s.day, time(7, 0), self.tz)
            self.end = datetime.combine(s.day, time(17, 0), self.tz)
        home = self.waypoints[self.catalog.home_waypoint]
        dock = self.waypoints.get('ladestation')
        self.home_s = (dock.distance_to(home.x, home.y) if dock else 1.1) / s.visitors.walk_speed
        self.now = self.start
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = 0
        self._battery_at = self.start
        # the robot, as it really is
        self.docked = True
        self.motion: str | None = None
        self._motion_token = 0
        self.stopped = False
        self.current: Visitor | None = None
        self.escorting = False
        self.held: Visitor | None = None  # an escort waiting for the undock under way
        self.queue: list[Visitor] = []
        self.refused_other: Counter[str] = Counter()  # escorts refused for another reason, e.g. office_closed
        self.truth: Counter[str] = Counter()  # the figures' columns, as the simulation knows them
        self.count: Counter[str] = Counter()  # everything else
        self.hourly: dict[str, Counter[str]] = {}
        self.battery_min = self.battery.percent
        self.log: list[str] = []
        self._sessions = 0

    # --- event loop -------------------------------------------------------------------------------------
    def at(self, when: datetime, fn: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, fn))

    def after(self, seconds: float, fn: Callable[[], None]) -> None:
        self.at(self.now + timedelta(seconds=seconds), fn)

    def run(self) -> DayResult:
        with tempfile.TemporaryDirectory(prefix='l2b2-day-') as tmp:
            path = Path(self.s.database) if self.s.database else Path(tmp) / 'figures.sqlite'
            with FiguresStore(path, departments=self.catalog.ids(), timezone=self.tz.key) as store:
                self.store = store
                self.recorder = FiguresRecorder(store)
                for v in self.arrivals():
                    self.at(v.arrived, lambda v=v: self._arrive(v))
                self.at(self.start, self._tick)
                while self._heap:
                    when, _, fn = heapq.heappop(self._heap)
                    if when > self.end:
                        break
                    self._advance(when)
                    fn()
                self._advance(self.end)
                self.recorder.close()
                return self._result()

    def _advance(self, to: datetime) -> None:
        """Move the clock and the battery to ``to`` with what the robot did since."""
        dt = (to - self._battery_at).total_seconds()
        if dt > 0:
            if self.docked:
                self.battery.step(dt, charging=True)
            else:
                driving = self.motion is not None
                talk = self.s.robot.talk_share if self.current is not None and not self.escorting else 0.0
                if talk > 0:
                    self.battery.step(dt * talk, driving=driving, speaking=True)
                self.battery.step(dt * (1.0 - talk), driving=driving)
            self.battery_min = min(self.battery_min, self.battery.percent)
            self._battery_at = to
        self.now = max(self.now, to)

    def _tick(self) -> None:
        """What the office node does on every /battery message and timer tick."""
        percent = self.battery.percent
        for event in self.policy.update(percent):
            self._note(f'battery {percent:.1f} %: {event}')
            self._run(self.cycle.battery_event(event))
        self._apply(self.rules.on_battery(percent / 100.0, self._mono()))
        self._run(self.cycle.tick(self.now))
        hour = self._hour()
        h = self.hourly.setdefault(hour, Counter())
        h['battery_percent'] = round(percent)  # the last tick of the hour wins
        h['docked'] = int(self.docked)
        if self.now < self.end:
            self.after(self.s.tick_s, self._tick)

    def _mono(self) -> float:
        return (self.now - self.start).total_seconds()

    def _hour(self) -> str:
        return f'{self.now:%H}:00'

    def _note(self, text: str) -> None:
        self.log.append(f'{self.now:%H:%M:%S} {text}')

    def _bump(self, key: str, n: int = 1) -> None:
        self.count[key] += n
        self.hourly.setdefault(self._hour(), Counter())[key] += n

    # --- the day cycle's commands -----------------------------------------------------------------------
    def _run(self, commands: list[dc.Command]) -> None:
        for cmd in commands:
            self._note(f'day cycle: {cmd}')
            if cmd.kind == dc.UNDOCK:
                self.count['undocks'] += 1
                self._move('undocking', self.s.robot.undock_s, self._undocked)
            elif cmd.kind == dc.GO_HOME:
                self._move('go_home', self.home_s, self._at_home)
            elif cmd.kind == dc.DOCK:
                self.count['dockings'] += 1
                if self.cycle.battery != 'ok':
                    self.count['charges'] += 1
                self._move('docking', self.s.robot.dock_s, self._docked)
            elif cmd.kind == dc.STOP_HERE:
                self._stop_here()
            elif cmd.kind == dc.ALERT:
                self.count['day_cycle_alerts'] += 1

    def _move(self, kind: str, seconds: float, done: Callable[[], None]) -> None:
        self._motion_token += 1
        token = self._motion_token
        self.motion = kind

        def finished() -> None:
            if token == self._motion_token:
                self.motion = None
                done()
        self.after(seconds, finished)

    def _undocked(self) -> None:
        self.docked = False
        self._run(self.cycle.undock_result(True))
        if self.held is not None:
            v, self.held = self.held, None
            self._escort(v)
        self._serve_next()

    def _at_home(self) -> None:
        self._serve_next()

    def _docked(self) -> None:
        self.docked = True
        self._run(self.cycle.dock_result(True))
        self._serve_next()

    def _stop_here(self) -> None:
        self._motion_token += 1
        self.motion = None
        self.stopped = True
        self.count['critical_stops'] += 1
        if self.escorting and self.current is not None:
            v = self.current
            self._escort_finished(EscortOutcome.CANCELED)
            self._finish(v)

        def rescued() -> None:  # staff push the robot onto the charger
            self.stopped = False
            self.docked = True
            self._run(self.cycle.set_docked(True))
            self._serve_next()
        self.after(self.s.robot.staff_rescue_s, rescued)

    # --- alerts -----------------------------------------------------------------------------------------
    def _apply(self, decisions: list[Decision]) -> None:
        changed = False
        t = self.now.timestamp()
        for d in decisions:
            alert = (self.book.raise_ if d.raise_ else self.book.clear)(d.kind, d.source, t)
            changed = changed or alert is not None
            if alert is not None and d.raise_:
                self._note(f'alert {alert.id}')
                self.truth[column('alert', d.kind)] += 1
        if changed:  # /office/alerts, as the figures node hears it
            views = [AlertView(a.id, a.kind, a.active, a.acknowledged) for a in self.book.pending()]
            self.recorder.alerts(views, self.now)

    # --- visitors ---------------------------------------------------------------------------------------
    def arrivals(self) -> list[Visitor]:
        """The day's visitors: thinning of a Poisson process with the rate curve over the opening intervals.

        Drawn from the seeded generator before the day runs (call it once, before :meth:`run`)."""
        vm = self.s.visitors
        if not self.intervals:
            return []
        step = 60.0
        integral = 0.0  # hours at the base rate
        for start, end in self.intervals:
            t = start
            while t < end:
                dt = min(step, (end - t).total_seconds())
                mid = t + timedelta(seconds=dt / 2)
                integral += vm.weight(_hour_of(mid)) * dt / 3600.0
                t += timedelta(seconds=dt)
        base = vm.daily_mean / integral  # visitors per hour at weight 1
        peak = base * (1.0 + vm.peak_height)  # the curve's maximum bounds it
        visitors: list[Visitor] = []
        for start, end in self.intervals:
            t = start
            while True:
                t += timedelta(hours=self.rng.expovariate(peak))
                if t >= end:
                    break
                if self.rng.random() * peak <= base * vm.weight(_hour_of(t)):
                    visitors.append(self._make_visitor(len(visitors) + 1, t))
        return visitors

    def _make_visitor(self, n: int, t: datetime) -> Visitor:
        vm, rng = self.s.visitors, self.rng
        language = _pick(rng, vm.languages)
        intent = _pick(rng, vm.intents)
        open_now = {tid for tid, _ in vm.departments if self.calendar.is_open(tid, t)}
        if intent in ('checkin', 'ticket'):
            open_now = {tid for tid in open_now if self.catalog[tid].scope_id is not None}
        department = _pick(rng, vm.departments, open_now)
        median = dict(vm.conversation_median_s)[intent]
        length = median * math.exp(rng.gauss(0.0, vm.conversation_sigma))
        return Visitor(n, t, language, intent, department, length, rng.uniform(*vm.patience_s))

    def _arrive(self, v: Visitor) -> None:
        self._bump('visitors_arrived')
        self.recorder.person_approached(v.id, self.now)
        self.truth['greeted'] += 1
        self.queue.append(v)
        self.after(v.patience_s, lambda: self._give_up(v))
        self._serve_next()

    def _give_up(self, v: Visitor) -> None:
        if v in self.queue:
            self.queue.remove(v)
            self._bump('visitors_left_waiting')

    def _available(self) -> bool:
        return (self.current is None and self.held is None and self.motion is None and not self.stopped
                and self.calendar.office_open(self.now))

    def _serve_next(self) -> None:
        if self.queue and self._available():
            self._converse(self.queue.pop(0))

    def _dialogue(self, state: str, v: Visitor | None, **fields: str) -> None:
        sid = f's{self._sessions}' if v is not None else ''
        self.recorder.dialogue(DialogueUpdate(state=state, session_id=sid, **fields), self.now)

    def _converse(self, v: Visitor) -> None:
        vm, rng = self.s.visitors, self.rng
        self.current = v
        self._sessions += 1
        self._bump('conversations')
        self.count['waited_s'] += round((self.now - v.arrived).total_seconds())
        self._run(self.cycle.visitor_busy(True))
        lang, intent, dept = v.language, DIALOGUE_INTENT[v.intent], v.department
        self._dialogue('greeting', v, language='de')
        t = self.truth
        t['conversations'] += 1
        t[column('language', lang)] += 1
        t[column('intent', intent)] += 1
        t[column('department', dept)] += 1
        state = {'checkin': 'checkin', 'ticket': 'ticket'}.get(v.intent, 'listening')
        self.after(0.3 * v.conversation_s, lambda: self._dialogue(state, v, language=lang, intent=intent,
                                                                  target_id=dept))
        if v.intent in ('checkin', 'ticket'):
            number = f'{"A" if v.intent == "checkin" else "B"}{v.id}'
            t['checkins' if v.intent == 'checkin' else 'tickets'] += 1
            self.after(0.8 * v.conversation_s, lambda: self._dialogue(
                'confirming', v, language=lang, intent=intent, target_id=WAITING_AREA, display_number=number))
        utterances = max(2, round(v.conversation_s / vm.utterance_every_s))
        for k in range(utterances):
            said = (k + 0.5) * v.conversation_s / utterances
            answer = rng.uniform(*vm.answer_s)
            not_understood = rng.random() < vm.not_understood_rate
            t['answers'] += 1
            t['not_understood'] += int(not_understood)
            self.after(said, lambda: self.recorder.visitor_spoke(self.now))
            self.after(said + answer, lambda nu=not_understood: self.recorder.robot_said(self.now, nu))
        self.after(v.conversation_s, lambda: self._conversation_done(v))

    def _conversation_done(self, v: Visitor) -> None:
        if v.intent != 'escort':
            self._finish(v)
            return
        self._dialogue('confirming', v, language=v.language, intent='escort', target_id=v.department)
        status = self.cycle.status
        if status.accepting_escorts and not self.stopped:
            self._escort(v)
        elif status.reason in (dc.BATTERY_LOW, dc.BATTERY_CRITICAL):
            self._bump('visitors_refused_low_battery')
            self._finish(v)
        elif status.reason == dc.DOCKED and self.cycle.pending == dc.UNDOCK:
            self.held = v  # the robot is on its way out: escort once it is off the dock
        else:
            self._bump('escorts_refused_other')
            self.refused_other[status.reason or 'unknown'] += 1
            self._finish(v)

    def _escort(self, v: Visitor) -> None:
        vm = self.s.visitors
        self.escorting = True
        self._bump('escorts')
        self._dialogue('escorting', v, language=v.language, intent='affirm', target_id=v.department)
        home = self.waypoints[self.catalog.home_waypoint]
        target = self.waypoints[self.catalog[v.department].waypoint]
        walk_s = target.distance_to(home.x, home.y) * vm.detour / vm.walk_speed
        self.count['escort_m'] += round(target.distance_to(home.x, home.y) * vm.detour)
        lost = self.rng.random() < vm.visitor_lost_rate

        def returned() -> None:
            if lost:
                self._apply(self.rules.on_health('escort', HealthLevel.OK, 'at home', self._mono()))
            self._finish(v)

        def arrived() -> None:
            self._escort_finished(EscortOutcome.VISITOR_LOST if lost else EscortOutcome.ARRIVED)
            if lost:
                self._apply(self.rules.on_health('escort', HealthLevel.DEGRADED,
                                                 f'visitor lost on the way to {v.department}', self._mono()))
            self._dialogue('returning', v, language=v.language)
            self._move('returning', walk_s, returned)
        self._move('escort', walk_s + (0.0 if lost else vm.handover_s), arrived)

    def _escort_finished(self, outcome: EscortOutcome) -> None:
        self.recorder.escort_finished(int(outcome), self.now)
        self.truth[column('escort', escort_label(outcome))] += 1

    def _finish(self, v: Visitor) -> None:
        self._dialogue('farewell', v, language=v.language)
        self._dialogue('idle', None)
        self._bump('visitors_served')
        self.current, self.escorting = None, False
        self._run(self.cycle.visitor_busy(False))
        self._serve_next()

    # --- the outcome ------------------------------------------------------------------------------------
    def _result(self) -> DayResult:
        rows = self.store.summary('day', self.s.day, self.s.day)
        row = rows[0]
        stored = {c: n for c, n in row.counts.items() if n}
        stored['answers'] = row.answers
        truth = {c: n for c, n in self.truth.items() if n or c == 'answers'}
        mismatches = sorted(c for c in set(stored) | set(truth) if stored.get(c, 0) != truth.get(c, 0))
        c = self.count
        still_waiting = len(self.queue) + (1 if self.current is not None else 0)
        figures = {
            'date': self.s.day.isoformat(),
            'seed': self.s.seed,
            'visitors_arrived': c['visitors_arrived'],
            'visitors_served': c['visitors_served'],
            'visitors_refused_low_battery': c['visitors_refused_low_battery'],
            'charges': c['charges'],
            'docked_after_close': bool(self.docked and self.cycle.docked and self.motion is None
                                       and self.cycle.phase == dc.CLOSED),
            'figures_match_truth': not mismatches,
            'alerts_raised': sum(self.raised.values()),
            'visitors_left_waiting': c['visitors_left_waiting'],
            'visitors_unserved_at_end': still_waiting,
            'escorts': c['escorts'],
            'escorts_refused_other': c['escorts_refused_other'],
            'escorts_refused_by_reason': dict(sorted(self.refused_other.items())),
            'checkins': self.truth['checkins'],
            'tickets': self.truth['tickets'],
            'escort_m': c['escort_m'],
            'mean_wait_s': round(c['waited_s'] / c['conversations'], 1) if c['conversations'] else 0.0,
            'dockings': c['dockings'],
            'undocks': c['undocks'],
            'critical_stops': c['critical_stops'],
            'day_cycle_alerts': c['day_cycle_alerts'],
            'alerts_by_kind': dict(sorted(self.raised.items())),
            'battery_min_percent': round(self.battery_min, 1),
            'battery_end_percent': round(self.battery.percent, 1),
            'capacity_wh': self.battery.capacity_wh,
            'expected_arrivals': round(self.s.visitors.daily_mean, 1) if self.intervals else 0.0,
            'opening': [f'{a:%H:%M}-{b:%H:%M}' for a, b in self.intervals],
            'sim_hours': round((self.end - self.start).total_seconds() / 3600.0, 2),
        }
        hours = []
        for hour in sorted(self.hourly):
            h = self.hourly[hour]
            hours.append({'hour': hour, 'arrived': h['visitors_arrived'], 'served': h['visitors_served'],
                          'left': h['visitors_left_waiting'], 'escorts': h['escorts'],
                          'refused_low_battery': h['visitors_refused_low_battery'],
                          'battery_percent': h['battery_percent'], 'docked': bool(h['docked'])})
        return DayResult(figures, hours, dict(sorted(truth.items())), dict(sorted(stored.items())), mismatches,
                         self.log)


def simulate(settings: DaySettings = DaySettings(), **kwargs) -> DayResult:
    """Play one office day (see the module docstring)."""
    return OfficeDay(settings, **kwargs).run()


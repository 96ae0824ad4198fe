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

The visitors, the robot's move times and the settings are :mod:`l2b2_office.day_model`'s.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
import heapq
from pathlib import Path
import random
import tempfile

from l2b2_common.catalog import Catalog, load_catalog
from l2b2_common.codes import EscortOutcome, HealthLevel
from l2b2_common.maps import Waypoint, load_waypoints, require_waypoints
from l2b2_office import day_cycle as dc
from l2b2_office.alert_rules import AlertRules, Decision, RuleConfig
from l2b2_office.alerts import AlertBook
from l2b2_office.day_model import DayResult, DaySettings, Visitor, draw_visitors
from l2b2_office.figures import FiguresStore, column
from l2b2_office.figures_recorder import AlertView, DialogueUpdate, FiguresRecorder, escort_label
from l2b2_office.office_config import OfficeConfig, load_office_config

#: The dialogue's intent name of each visitor intent (what /dialogue/state shows).
DIALOGUE_INTENT = {'escort': 'escort', 'checkin': 'appointment_checkin', 'ticket': 'ticket',
                   'question': 'opening_hours'}
WAITING_AREA = 'wartebereich'


class OfficeDay:
    """One day; :meth:`run` plays it and returns a :class:`DayResult`."""

    def __init__(self, settings: DaySettings = DaySettings(),  # noqa: B008 - frozen: one shared default is safe
                 config: OfficeConfig | None = None, catalog: Catalog | None = None,
                 waypoints: dict[str, Waypoint] | None = None):
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
        """The day's visitors (:func:`~l2b2_office.day_model.draw_visitors`), drawn from the seeded generator
        before the day runs (call it once, before :meth:`run`)."""
        return draw_visitors(self.s.visitors, self.intervals, self.rng, self.calendar, self.catalog)

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


def simulate(settings: DaySettings = DaySettings(), **kwargs) -> DayResult:  # noqa: B008 - frozen, see OfficeDay
    """Play one office day (see the module docstring)."""
    return OfficeDay(settings, **kwargs).run()

"""The robot's working day (issue 16, item 1): when to be out, when to dock, what to tell visitors.

Pure Python (no ROS): the office node feeds :class:`DayCycle` the clock (:meth:`DayCycle.tick`), whether a
visitor is being served, the battery events of :class:`l2b2_office.battery.BatteryPolicy`, the results of
the dock's ``DockRobot``/``UndockRobot`` actions and the staff's overrides; each input returns the
commands to carry out, and :attr:`DayCycle.status` is what the node publishes (panel, visitor screen).

Opening hours are the catalog's (config/departments.yaml), with the public holidays of config/office.yaml
on top: the office as a whole is open while any department that is not open around the clock is open.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from l2b2_common.catalog import DAYS, Catalog

# --- commands ---------------------------------------------------------------------------------------
UNDOCK, GO_HOME, DOCK, STOP_HERE = 'undock', 'go_home', 'dock', 'stop_here'
REFUSE_NEW_ESCORTS, ACCEPT_ESCORTS, ALERT = 'refuse_new_escorts', 'accept_escorts', 'alert'

# --- phases -----------------------------------------------------------------------------------------
BEFORE_OPENING, OPENING, OPEN, CLOSING, CLOSED = 'before_opening', 'opening', 'open', 'closing', 'closed'

# --- reasons (why no new escorts; also the alert kinds) ----------------------------------------------
BATTERY_LOW, BATTERY_CRITICAL = 'battery_low', 'battery_critical'
OFFICE_CLOSED, STAFF_DOCK_NOW, DOCKED = 'office_closed', 'staff_dock_now', 'docked'
UNDOCK_FAILED, DOCK_FAILED = 'undock_failed', 'dock_failed'

# --- staff overrides --------------------------------------------------------------------------------
NO_OVERRIDE, STAY_OUT, DOCK_NOW = 'none', 'stay_out', 'dock_now'

# --- message keys for the visitor screen (texts live with the screen's responses) ---------------------
SCREEN_OFFICE_CLOSED = 'office_closed'
SCREEN_NEXT_OPENING = 'next_opening'  # with status.next_opening
SCREEN_PICKUP_ALWAYS_OPEN = 'pickup_terminal_always_open'
SCREEN_OFFICE_CLOSING_SOON = 'office_closing_soon'  # with status.office_closes_at
SCREEN_ROBOT_CHARGING = 'robot_charging'
SCREEN_ROBOT_UNAVAILABLE = 'robot_unavailable'
SCREEN_USE_SCREEN_OR_INFO_DESK = 'use_screen_or_info_desk'
#: Closing notice keys for an arriving visitor (see :class:`ClosingNotice`).
NOTICE_STILL_TAKEN = 'department_closing_soon_still_taken'
NOTICE_NOT_TAKEN = 'department_closing_soon_not_taken'


@dataclass(frozen=True)
class Command:
    """One thing for the node to do; ``arg`` is the reason or alert kind."""

    kind: str
    arg: str | None = None

    def __str__(self) -> str:
        return f'{self.kind}({self.arg})' if self.arg else self.kind


class Hours(Protocol):
    """What the calendar needs of a catalog target (:class:`l2b2_common.catalog.Target` has it)."""

    opening_hours: Mapping[str, Iterable[tuple[time, time]]]
    always_open: bool


@dataclass(frozen=True)
class ClosingNotice:
    """What to tell a visitor arriving for a department: ``tell`` when it closes within the notice time,
    ``still_taken`` when it is open and at least the minimum service time is left."""

    tell: bool
    still_taken: bool
    closes_at: datetime | None
    minutes_left: float | None

    @property
    def message_key(self) -> str | None:
        if not self.tell:
            return None
        return NOTICE_STILL_TAKEN if self.still_taken else NOTICE_NOT_TAKEN


class OfficeCalendar:
    """Opening hours of every target plus the public holidays, in the office's time zone.

    Times passed in may be aware (converted to the office's zone) or naive (taken as office time).
    """

    #: How far :meth:`next_opening` looks ahead: more than a year of holidays and closed days.
    SEARCH_DAYS = 400

    def __init__(self, hours: Mapping[str, Hours], holidays: Iterable[date] = (),
                 tz: ZoneInfo | str = 'Europe/Berlin'):
        self._hours = dict(hours)
        self.holidays = frozenset(holidays)
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        #: day -> its office intervals: they depend on the date alone, and the day cycle asks on every tick.
        self._intervals: dict[date, tuple[tuple[datetime, datetime], ...]] = {}

    @classmethod
    def from_catalog(cls, catalog: Catalog, holidays: Iterable[date] = (),
                     tz: ZoneInfo | str = 'Europe/Berlin') -> OfficeCalendar:
        return cls(catalog.targets, holidays, tz)

    def local(self, at: datetime) -> datetime:
        return at.replace(tzinfo=self.tz) if at.tzinfo is None else at.astimezone(self.tz)

    def spans(self, target_id: str, day: date) -> list[tuple[datetime, datetime]]:
        """The target's opening spans on ``day``: none on a holiday (24/7 targets have no spans)."""
        target = self._hours[target_id]
        if target.always_open or day in self.holidays:
            return []
        return [(datetime.combine(day, start, self.tz), datetime.combine(day, end, self.tz))
                for start, end in target.opening_hours.get(DAYS[day.weekday()], ())]

    def office_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """When the office is open on ``day``: the union of every non-24/7 target's spans."""
        if day not in self._intervals:
            spans = sorted(s for tid in self._hours for s in self.spans(tid, day))
            merged: list[tuple[datetime, datetime]] = []
            for start, end in spans:
                if merged and start <= merged[-1][1]:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            self._intervals[day] = tuple(merged)
        return list(self._intervals[day])

    def is_open(self, target_id: str, at: datetime) -> bool:
        if self._hours[target_id].always_open:
            return True
        return self.closes_at(target_id, at) is not None

    def office_open(self, at: datetime) -> bool:
        return self.office_closes_at(at) is not None

    def office_closes_at(self, at: datetime) -> datetime | None:
        """When the current opening ends, or None when the office is closed now."""
        at = self.local(at)
        return next((end for start, end in self.office_intervals(at.date()) if start <= at < end), None)

    def next_opening(self, at: datetime) -> datetime | None:
        """The next moment after ``at`` the office opens (if open now: the opening after this one);
        None when it never opens within :attr:`SEARCH_DAYS`."""
        at = self.local(at)
        for offset in range(self.SEARCH_DAYS):
            for start, _ in self.office_intervals(at.date() + timedelta(days=offset)):
                if start > at:
                    return start
        return None

    def closes_at(self, target_id: str, at: datetime) -> datetime | None:
        """When the target's current span ends; None when it is closed now or open around the clock."""
        at = self.local(at)
        return next((end for start, end in self.spans(target_id, at.date()) if start <= at < end), None)

    def closing_soon(self, target_id: str, at: datetime, minutes: float) -> bool:
        """Open now and closing within ``minutes``."""
        end = self.closes_at(target_id, at)
        return end is not None and end - self.local(at) <= timedelta(minutes=minutes)

    def closing_notice(self, target_id: str, at: datetime, minutes: float, min_service_minutes: float) -> ClosingNotice:
        """Whether to tell a visitor arriving at ``at`` that ``target_id`` closes soon, and whether it
        still takes them (open now with at least ``min_service_minutes`` left)."""
        if self._hours[target_id].always_open:
            return ClosingNotice(tell=False, still_taken=True, closes_at=None, minutes_left=None)
        end = self.closes_at(target_id, at)
        if end is None:
            return ClosingNotice(tell=False, still_taken=False, closes_at=None, minutes_left=None)
        left = (end - self.local(at)).total_seconds() / 60.0
        return ClosingNotice(tell=left <= minutes, still_taken=left >= min_service_minutes, closes_at=end,
                             minutes_left=left)


@dataclass(frozen=True)
class DayCycleSettings:
    """The day cycle's part of config/office.yaml (see l2b2_office/office_config.py)."""

    #: Tell arriving visitors when their department closes within this many minutes.
    closing_notice_minutes: float = 15.0
    #: A department still takes a visitor when at least this many minutes are left.
    min_service_minutes: float = 10.0
    #: A break shorter than this (e.g. between two opening spans) is spent out, not on the dock.
    stay_out_gap_minutes: float = 30.0
    #: Retries after a failed undock / dock before staff are alerted.
    undock_retries: int = 2
    dock_retries: int = 2


@dataclass(frozen=True)
class DayStatus:
    """What the node publishes: for the panel (all of it) and the visitor screen (``screen`` keys)."""

    phase: str
    #: Why new escorts are refused (None while accepting).
    reason: str | None
    accepting_escorts: bool
    next_opening: datetime | None
    office_closes_at: datetime | None
    docked: bool
    battery: str
    override: str
    fault: str | None
    screen: tuple[str, ...] = field(default_factory=tuple)


class DayCycle:
    """The state machine of the robot's day.

    Phases: ``before_opening`` (docked; the screen shows the next opening), ``opening`` (undock, then go
    home), ``open``, ``closing`` (the last department has closed: finish the current visitor, then dock)
    and ``closed`` (docked; no opening later today). Independently of the phase: a low battery stops new
    escorts, lets the current visitor finish and docks until ``battery_ok_to_resume``; a critical one
    stops the robot where it is and alerts staff. Staff may hold the robot out (``stay_out``, until
    released; a low battery still wins, an empty robot helps nobody) or send it to the dock at once
    (``dock_now``, without waiting for the current visitor; until released or the next opening).

    Every input returns the commands to carry out, in order; nothing happens before the first tick.
    The node answers each ``undock``/``dock`` with :meth:`undock_result`/:meth:`dock_result`; a failure
    is retried the configured number of times, then reported with ``alert(undock_failed|dock_failed)``
    and not tried again until :meth:`clear_fault` or the next opening.
    """

    def __init__(self, calendar: OfficeCalendar, settings: DayCycleSettings = DayCycleSettings(), *,
                 docked: bool = True):
        self.calendar = calendar
        self.settings = settings
        self.phase: str | None = None
        self.docked = docked
        self.busy = False
        self.battery = 'ok'
        self.override = NO_OVERRIDE
        self.fault: str | None = None
        self.pending: str | None = None  # UNDOCK or DOCK while its action runs
        self._failures = 0
        self._uncharged_docks = 0  # our docks in a row after which the charger never charged
        self._now: datetime | None = None
        self._refusal: object = ...  # the last announced refusal reason (... = none announced yet)

    # --- inputs ---------------------------------------------------------------------------------------
    def tick(self, now: datetime) -> list[Command]:
        """The clock: changes the phase at opening and closing."""
        self._now = self.calendar.local(now)
        open_now = self.calendar.office_open(self._now)
        if open_now and self.phase in (None, BEFORE_OPENING, CLOSED, CLOSING):
            if self.phase is not None or self.docked:  # a new opening (not a restart mid-day out of the dock)
                self._new_opening()
            self.phase = OPENING if self.docked else OPEN
        elif not open_now and self.phase in (None, OPENING, OPEN):
            self.phase = CLOSING
        return self._settle([])

    def visitor_busy(self, busy: bool) -> list[Command]:
        """Whether a visitor is being served (an escort runs): the robot docks only once it is done."""
        self.busy = busy
        return self._settle([])

    def battery_event(self, event: str) -> list[Command]:
        """An event of :class:`~l2b2_office.battery.BatteryPolicy`."""
        handlers = {'battery_low': self.battery_low, 'battery_critical': self.battery_critical,
                    'battery_ok_to_resume': self.battery_ok_to_resume}
        if event not in handlers:
            raise ValueError(f'unknown battery event {event!r}')
        return handlers[event]()

    def battery_low(self) -> list[Command]:
        if self.battery == BATTERY_CRITICAL:
            return self._settle([])
        self.battery = BATTERY_LOW
        return self._settle([])

    def battery_critical(self) -> list[Command]:
        """Stop where it is (unless already on the dock, where it charges) and alert staff."""
        out: list[Command] = []
        if self.battery != BATTERY_CRITICAL:
            self.battery = BATTERY_CRITICAL
            if not self.docked:
                self.pending = None  # stop_here cancels any running dock/undock
                out.append(Command(STOP_HERE))
            out.append(Command(ALERT, BATTERY_CRITICAL))
        return self._settle(out)

    def battery_ok_to_resume(self) -> list[Command]:
        self.battery = 'ok'
        return self._settle([])

    def undock_result(self, succeeded: bool) -> list[Command]:
        if self.pending != UNDOCK:
            return self._settle([])
        self.pending = None
        out: list[Command] = []
        if succeeded:
            self.docked = False
            self._failures = 0
            if self.phase == OPENING:
                self.phase = OPEN
            if self._wants_out():
                out.append(Command(GO_HOME))
        else:
            out += self._failed(UNDOCK_FAILED, self.settings.undock_retries)
        return self._settle(out)

    def dock_result(self, succeeded: bool) -> list[Command]:
        if self.pending != DOCK:
            return self._settle([])
        self.pending = None
        out: list[Command] = []
        if succeeded:
            self.docked = True
            self._failures = 0
            self._uncharged_docks += 1  # until the charger says it charges
        else:
            out += self._failed(DOCK_FAILED, self.settings.dock_retries)
        return self._settle(out)

    def set_docked(self, docked: bool) -> list[Command]:
        """The robot was put on (or taken off) the dock by hand, e.g. after a critical battery stop."""
        self.docked = docked
        self.pending = None
        return self._settle([])

    def charger(self, charging: bool) -> list[Command]:
        """The charger's settled word (on the dock: charging or full), believed over the cycle's own.

        Off the charger right after a dock of ours that never charged: the dock failed (dirty contacts, the robot
        a little off): docked again up to ``dock_retries`` times, then DOCK_FAILED and an alert, as a blocked dock.
        Any other disagreement: the robot was carried on or off the dock (:meth:`set_docked`)."""
        if charging:
            self._uncharged_docks = 0
            return self._settle([]) if self.docked else self.set_docked(True)
        if not self.docked:
            return self._settle([])
        if self._uncharged_docks:
            self.docked = False
            out: list[Command] = []
            if self._uncharged_docks > self.settings.dock_retries:
                self._uncharged_docks = 0
                self.fault = DOCK_FAILED
                out.append(Command(ALERT, DOCK_FAILED))
            return self._settle(out)
        return self.set_docked(False)

    def stay_out(self) -> list[Command]:
        """Staff: keep the robot out (also past closing) until released."""
        self.override = STAY_OUT
        return self._settle([])

    def dock_now(self) -> list[Command]:
        """Staff: dock at once (the node cancels a running escort), until released or the next opening."""
        self.override = DOCK_NOW
        return self._settle([])

    def release_override(self) -> list[Command]:
        self.override = NO_OVERRIDE
        return self._settle([])

    def clear_fault(self) -> list[Command]:
        """Staff dealt with a failed dock/undock: try again."""
        self.fault = None
        self._failures = 0
        return self._settle([])

    # --- outputs --------------------------------------------------------------------------------------
    @property
    def status(self) -> DayStatus:
        now = self._now
        closes = self.calendar.office_closes_at(now) if now else None
        reason = self._refusal_reason()
        return DayStatus(phase=self.phase or CLOSED, reason=reason, accepting_escorts=reason is None,
                         next_opening=self.calendar.next_opening(now) if now else None, office_closes_at=closes,
                         docked=self.docked, battery=self.battery, override=self.override, fault=self.fault,
                         screen=self._screen(closes))

    def closing_notice(self, target_id: str, at: datetime) -> ClosingNotice:
        """:meth:`OfficeCalendar.closing_notice` with the configured minutes."""
        return self.calendar.closing_notice(target_id, at, self.settings.closing_notice_minutes,
                                            self.settings.min_service_minutes)

    # --- rules ----------------------------------------------------------------------------------------
    def _new_opening(self) -> None:
        if self.override == DOCK_NOW:
            self.override = NO_OVERRIDE
        self.fault = None
        self._failures = 0

    def _resting_phase(self) -> str:
        nxt = self.calendar.next_opening(self._now)
        return BEFORE_OPENING if nxt is not None and nxt.date() == self._now.date() else CLOSED

    def _short_break(self) -> bool:
        nxt = self.calendar.next_opening(self._now)
        return nxt is not None and nxt - self._now <= timedelta(minutes=self.settings.stay_out_gap_minutes)

    def _wants_out(self) -> bool:
        if self.battery != 'ok' or self.override == DOCK_NOW:
            return False
        if self.override == STAY_OUT:
            return True
        if self.phase in (OPENING, OPEN):
            return True
        return self.phase == CLOSING and self._short_break()

    def _refusal_reason(self) -> str | None:
        if self.battery != 'ok':
            return self.battery
        if self.override == DOCK_NOW:
            return STAFF_DOCK_NOW
        if self.phase not in (OPENING, OPEN) and self.override != STAY_OUT:
            return OFFICE_CLOSED
        if self.fault:
            return self.fault
        if self.docked or self.pending == UNDOCK:
            return DOCKED
        return None

    def _screen(self, closes: datetime | None) -> tuple[str, ...]:
        if self.phase not in (OPENING, OPEN):  # what a visitor needs to know outside hours, whatever the robot does
            return SCREEN_OFFICE_CLOSED, SCREEN_NEXT_OPENING, SCREEN_PICKUP_ALWAYS_OPEN
        if self.battery != 'ok':
            return (SCREEN_ROBOT_CHARGING if self.battery == BATTERY_LOW else SCREEN_ROBOT_UNAVAILABLE,
                    SCREEN_USE_SCREEN_OR_INFO_DESK)
        if self.fault:
            return SCREEN_ROBOT_UNAVAILABLE, SCREEN_USE_SCREEN_OR_INFO_DESK
        if closes is not None and closes - self._now <= timedelta(minutes=self.settings.closing_notice_minutes):
            return (SCREEN_OFFICE_CLOSING_SOON,)
        return ()

    def _failed(self, fault: str, retries: int) -> list[Command]:
        self._failures += 1
        if self._failures > retries:
            self.fault = fault
            self._failures = 0
            return [Command(ALERT, fault)]
        return []  # _settle issues the retry

    def _settle(self, out: list[Command]) -> list[Command]:
        """After any input: finish the phase change, announce a changed refusal, then move."""
        if self._now is None:
            return out
        self._update_closed_phase()
        reason = self._refusal_reason()
        if reason != self._refusal:
            out.append(Command(ACCEPT_ESCORTS) if reason is None else Command(REFUSE_NEW_ESCORTS, reason))
            self._refusal = reason
        if self.battery == BATTERY_CRITICAL or self.pending is not None:
            return out
        if self._wants_out():
            if self.docked and self.fault != UNDOCK_FAILED:
                self.pending = UNDOCK
                out.append(Command(UNDOCK))
        elif not self.docked and self.fault != DOCK_FAILED and (not self.busy or self.override == DOCK_NOW):
            self.pending = DOCK
            out.append(Command(DOCK))
        self._update_closed_phase()
        return out

    def _update_closed_phase(self) -> None:
        """A closed office: at rest (before opening, closed) only on the dock, else still closing."""
        if self.phase in (CLOSING, BEFORE_OPENING, CLOSED):
            self.phase = self._resting_phase() if self.docked and self.pending is None else CLOSING

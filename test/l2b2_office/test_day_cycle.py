"""The day cycle's rules, one by one, with a fake clock (no ROS, no sleeps)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from l2b2_common.catalog import load_catalog
from l2b2_office.day_cycle import (
    ACCEPT_ESCORTS,
    ALERT,
    BEFORE_OPENING,
    CLOSED,
    CLOSING,
    DOCK,
    GO_HOME,
    NOTICE_NOT_TAKEN,
    NOTICE_STILL_TAKEN,
    OPEN,
    OPENING,
    REFUSE_NEW_ESCORTS,
    SCREEN_NEXT_OPENING,
    SCREEN_OFFICE_CLOSED,
    SCREEN_OFFICE_CLOSING_SOON,
    SCREEN_PICKUP_ALWAYS_OPEN,
    SCREEN_ROBOT_CHARGING,
    STOP_HERE,
    UNDOCK,
    Command,
    DayCycle,
    DayCycleSettings,
    OfficeCalendar,
)

TZ = ZoneInfo('Europe/Berlin')


@dataclass(frozen=True)
class FakeHours:
    opening_hours: dict = field(default_factory=dict)
    always_open: bool = False


def spans(*texts: str) -> tuple:
    out = []
    for text in texts:
        a, b = text.split('-')
        out.append((time.fromisoformat(a), time.fromisoformat(b)))
    return tuple(out)


#: A small office: two departments with different hours and a 24/7 pick-up terminal.
HOURS = {
    'pass': FakeHours({'mon': spans('07:30-12:00', '14:00-16:00'), 'tue': spans('07:30-12:00'),
                       'thu': spans('07:30-12:00', '14:00-18:00'), 'sat': spans('09:00-12:00')}),
    'standesamt': FakeHours({'mon': spans('08:00-12:00'), 'tue': spans('08:00-12:30'),
                             'thu': spans('08:00-12:00', '14:00-17:00')}),
    'abholterminal': FakeHours(always_open=True),
}
MONDAY = date(2026, 12, 7)
TUESDAY = MONDAY + timedelta(days=1)
HOLIDAY = date(2026, 12, 8)  # the tests' own: the Tuesday is closed


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), TZ)


def cmds(*texts: str) -> list[Command]:
    """Commands from their printed form: "dock", "alert(dock_failed)"."""
    out = []
    for text in texts:
        kind, _, arg = text.partition('(')
        out.append(Command(kind, arg.rstrip(')') or None))
    return out


class Clock:
    """A fake clock the test advances by hand."""

    def __init__(self, start: datetime):
        self.now = start

    def advance(self, **delta) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def calendar() -> OfficeCalendar:
    return OfficeCalendar(HOURS, holidays={HOLIDAY}, tz=TZ)


def make_cycle(calendar, start: datetime, *, docked: bool = True, **settings) -> tuple[DayCycle, Clock, list]:
    cycle = DayCycle(calendar, DayCycleSettings(**settings), docked=docked)
    clock = Clock(start)
    first = cycle.tick(clock.now)
    return cycle, clock, first


def open_and_out(calendar, when: datetime | None = None, **settings) -> tuple[DayCycle, Clock]:
    """A cycle in the open office with the robot out of the dock and accepting escorts."""
    cycle, clock, first = make_cycle(calendar, when or at(MONDAY, '09:00'), **settings)
    assert first == cmds('refuse_new_escorts(docked)', 'undock')
    assert cycle.undock_result(True) == cmds('go_home', 'accept_escorts')
    return cycle, clock


# --- the calendar -------------------------------------------------------------------------------------

def test_office_is_open_while_any_department_is(calendar):
    assert not calendar.office_open(at(MONDAY, '07:29'))
    assert calendar.office_open(at(MONDAY, '07:30'))
    assert calendar.office_open(at(MONDAY, '11:59'))
    assert not calendar.office_open(at(MONDAY, '12:00'))
    assert calendar.office_open(at(MONDAY, '15:59'))
    assert not calendar.office_open(at(MONDAY, '16:00'))
    assert calendar.office_open(at(MONDAY + timedelta(days=3), '17:59'))  # Thursday: pass until 18:00


def test_the_24_7_terminal_alone_does_not_open_the_office(calendar):
    sunday = MONDAY - timedelta(days=1)
    assert calendar.is_open('abholterminal', at(sunday, '03:00'))
    assert not calendar.office_open(at(sunday, '10:00'))


def test_holidays_close_every_department_but_not_the_terminal(calendar):
    assert not calendar.office_open(at(HOLIDAY, '09:00'))
    assert not calendar.is_open('pass', at(HOLIDAY, '09:00'))
    assert calendar.is_open('abholterminal', at(HOLIDAY, '09:00'))


def test_next_opening_skips_breaks_weekends_and_holidays(calendar):
    assert calendar.next_opening(at(MONDAY, '06:00')) == at(MONDAY, '07:30')
    assert calendar.next_opening(at(MONDAY, '09:00')) == at(MONDAY, '14:00')  # open now: the one after
    assert calendar.next_opening(at(MONDAY, '12:30')) == at(MONDAY, '14:00')
    # Monday evening: Tuesday is a holiday, Wednesday has no hours, so Thursday.
    assert calendar.next_opening(at(MONDAY, '16:00')) == at(MONDAY + timedelta(days=3), '07:30')
    # Saturday after noon: Sunday closed, so Monday.
    saturday = MONDAY + timedelta(days=5)
    assert calendar.next_opening(at(saturday, '12:00')) == at(saturday + timedelta(days=2), '07:30')


def test_next_opening_is_none_when_nothing_ever_opens():
    calendar = OfficeCalendar({'abholterminal': FakeHours(always_open=True)}, tz=TZ)
    assert calendar.next_opening(at(MONDAY, '09:00')) is None
    assert not calendar.office_open(at(MONDAY, '09:00'))


def test_times_in_another_zone_are_converted_and_naive_times_are_office_time(calendar):
    utc = datetime(2026, 12, 7, 6, 45, tzinfo=ZoneInfo('UTC'))  # 07:45 in Berlin (winter time)
    assert calendar.office_open(utc)
    assert calendar.office_open(datetime(2026, 12, 7, 7, 45))
    assert not calendar.office_open(datetime(2026, 12, 7, 6, 45))


def test_closes_at_and_closing_soon_per_department(calendar):
    assert calendar.closes_at('pass', at(MONDAY, '11:00')) == at(MONDAY, '12:00')
    assert calendar.closes_at('pass', at(MONDAY, '13:00')) is None
    assert calendar.closes_at('abholterminal', at(MONDAY, '13:00')) is None
    assert calendar.closing_soon('pass', at(MONDAY, '11:45'), 15)
    assert not calendar.closing_soon('pass', at(MONDAY, '11:44'), 15)
    assert not calendar.closing_soon('pass', at(MONDAY, '12:00'), 15)  # closed is not "closing soon"
    assert not calendar.closing_soon('abholterminal', at(MONDAY, '23:59'), 15)


def test_closing_notice_tells_arriving_visitors_and_whether_they_are_still_taken(calendar):
    early = calendar.closing_notice('pass', at(MONDAY, '11:00'), 15, 10)
    assert (early.tell, early.still_taken, early.message_key) == (False, True, None)
    soon = calendar.closing_notice('pass', at(MONDAY, '11:48'), 15, 10)
    assert (soon.tell, soon.still_taken, soon.message_key) == (True, True, NOTICE_STILL_TAKEN)
    assert soon.minutes_left == pytest.approx(12) and soon.closes_at == at(MONDAY, '12:00')
    late = calendar.closing_notice('pass', at(MONDAY, '11:52'), 15, 10)
    assert (late.tell, late.still_taken, late.message_key) == (True, False, NOTICE_NOT_TAKEN)
    exactly = calendar.closing_notice('pass', at(MONDAY, '11:50'), 15, 10)
    assert exactly.still_taken  # the minimum service time left is enough
    closed = calendar.closing_notice('pass', at(MONDAY, '12:30'), 15, 10)
    assert (closed.tell, closed.still_taken) == (False, False)
    terminal = calendar.closing_notice('abholterminal', at(MONDAY, '23:55'), 15, 10)
    assert (terminal.tell, terminal.still_taken) == (False, True)


def test_closing_notice_per_department_differs_when_the_office_stays_open(calendar):
    # Tuesday 12:20 would be the Standesamt's last minutes (pass closes at 12:00) -- use a non-holiday one.
    calendar = OfficeCalendar(HOURS, tz=TZ)
    assert calendar.office_open(at(TUESDAY, '12:20'))
    assert not calendar.closing_notice('pass', at(TUESDAY, '12:20'), 15, 10).still_taken
    notice = calendar.closing_notice('standesamt', at(TUESDAY, '12:20'), 15, 10)
    assert notice.tell and notice.still_taken
    cycle = DayCycle(calendar, DayCycleSettings(closing_notice_minutes=15, min_service_minutes=10))
    assert cycle.closing_notice('standesamt', at(TUESDAY, '12:22')).message_key == NOTICE_NOT_TAKEN


def test_the_real_catalog_gives_the_office_hours():
    calendar = OfficeCalendar.from_catalog(load_catalog(), holidays={date(2026, 12, 25)}, tz=TZ)
    assert calendar.office_open(at(MONDAY, '07:30'))
    assert not calendar.office_open(at(MONDAY, '07:29'))
    assert not calendar.office_open(at(date(2026, 12, 25), '09:00'))  # a Friday, but Christmas
    assert calendar.is_open('abholterminal', at(date(2026, 12, 25), '09:00'))


# --- the day: before opening, opening, open, closing, closed -------------------------------------------

def test_before_opening_the_robot_stays_docked_and_the_screen_shows_the_hours(calendar):
    cycle, clock, first = make_cycle(calendar, at(MONDAY, '06:00'))
    assert first == cmds('refuse_new_escorts(office_closed)')
    status = cycle.status
    assert status.phase == BEFORE_OPENING and status.docked and not status.accepting_escorts
    assert status.next_opening == at(MONDAY, '07:30')
    assert status.screen == (SCREEN_OFFICE_CLOSED, SCREEN_NEXT_OPENING, SCREEN_PICKUP_ALWAYS_OPEN)
    assert cycle.tick(clock.advance(minutes=89)) == []  # 07:29: nothing yet


def test_at_opening_it_undocks_then_goes_home_and_accepts_escorts(calendar):
    cycle, clock, _ = make_cycle(calendar, at(MONDAY, '07:29'))
    assert cycle.tick(clock.advance(minutes=1)) == cmds('refuse_new_escorts(docked)', 'undock')
    assert cycle.status.phase == OPENING
    assert cycle.tick(clock.advance(seconds=5)) == []  # the undock is running: no second one
    assert cycle.undock_result(True) == cmds('go_home', 'accept_escorts')
    status = cycle.status
    assert status.phase == OPEN and not status.docked and status.accepting_escorts and status.screen == ()


def test_after_closing_it_finishes_the_current_visitor_then_docks(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:50'))
    assert cycle.visitor_busy(True) == []
    assert cycle.tick(clock.advance(minutes=10)) == cmds('refuse_new_escorts(office_closed)')  # 16:00
    assert cycle.status.phase == CLOSING
    assert cycle.tick(clock.advance(minutes=5)) == []  # still with the visitor
    assert cycle.visitor_busy(False) == cmds('dock')
    assert cycle.status.phase == CLOSING
    assert cycle.dock_result(True) == []
    status = cycle.status
    # Tuesday is a holiday: no opening later today, so closed; the screen still points to the terminal.
    assert status.phase == CLOSED and status.docked
    assert status.next_opening == at(MONDAY + timedelta(days=3), '07:30')
    assert SCREEN_PICKUP_ALWAYS_OPEN in status.screen


def test_after_closing_without_a_visitor_it_docks_at_once(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:59'))
    assert cycle.tick(clock.advance(minutes=1)) == cmds('refuse_new_escorts(office_closed)', 'dock')


def test_a_long_break_is_spent_on_the_dock_and_it_comes_out_again(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '11:59'))
    assert cycle.tick(clock.advance(minutes=1)) == cmds('refuse_new_escorts(office_closed)', 'dock')
    cycle.dock_result(True)
    assert cycle.status.phase == BEFORE_OPENING  # opens again today at 14:00
    assert cycle.status.next_opening == at(MONDAY, '14:00')
    assert cycle.tick(at(MONDAY, '14:00')) == cmds('refuse_new_escorts(docked)', 'undock')


def test_a_short_break_is_spent_out(calendar):
    hours = {'a': FakeHours({'mon': spans('08:00-10:00', '10:20-12:00')})}
    cycle, clock = open_and_out(OfficeCalendar(hours, tz=TZ), at(MONDAY, '09:59'), stay_out_gap_minutes=30)
    assert cycle.tick(clock.advance(minutes=1)) == cmds('refuse_new_escorts(office_closed)')  # no dock
    assert cycle.status.phase == CLOSING and not cycle.status.docked
    assert cycle.tick(clock.advance(minutes=20)) == cmds('accept_escorts')  # 10:20: open again
    assert cycle.status.phase == OPEN


def test_the_last_minutes_before_the_office_closes_show_on_the_screen(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:30'), closing_notice_minutes=15)
    assert cycle.status.screen == ()
    cycle.tick(clock.advance(minutes=15))
    assert cycle.status.screen == (SCREEN_OFFICE_CLOSING_SOON,)
    assert cycle.status.office_closes_at == at(MONDAY, '16:00')


def test_a_restart_mid_day_out_of_the_dock_just_carries_on(calendar):
    cycle, clock, first = make_cycle(calendar, at(MONDAY, '10:00'), docked=False)
    assert first == cmds('accept_escorts')
    assert cycle.status.phase == OPEN


def test_a_restart_at_night_out_of_the_dock_docks(calendar):
    cycle, clock, first = make_cycle(calendar, at(MONDAY, '22:00'), docked=False)
    assert first == cmds('refuse_new_escorts(office_closed)', 'dock')
    cycle.dock_result(True)
    assert cycle.status.phase == CLOSED


def test_the_next_day_turns_closed_into_before_opening(calendar):
    cycle, clock, _ = make_cycle(calendar, at(MONDAY - timedelta(days=1), '20:00'))  # Sunday evening
    assert cycle.status.phase == CLOSED
    cycle.tick(at(MONDAY, '00:00'))
    assert cycle.status.phase == BEFORE_OPENING


def test_a_holiday_keeps_the_robot_docked_all_day(calendar):
    cycle, clock, _ = make_cycle(calendar, at(HOLIDAY, '06:00'))
    for _ in range(24):
        assert cycle.tick(clock.advance(minutes=30)) == []
    assert cycle.status.phase == CLOSED and cycle.status.docked


# --- undock and dock failures -------------------------------------------------------------------------

def test_a_failed_undock_is_retried_then_reported(calendar):
    cycle, clock, first = make_cycle(calendar, at(MONDAY, '07:30'), undock_retries=2)
    assert first[-1] == Command(UNDOCK)
    assert cycle.undock_result(False) == cmds('undock')
    assert cycle.undock_result(False) == cmds('undock')
    assert cycle.undock_result(False) == cmds('alert(undock_failed)', 'refuse_new_escorts(undock_failed)')
    assert cycle.tick(clock.advance(minutes=10)) == []  # not tried again by itself
    assert cycle.status.fault == 'undock_failed' and cycle.status.docked
    assert cycle.clear_fault() == cmds('refuse_new_escorts(docked)', 'undock')
    assert cycle.undock_result(True) == cmds('go_home', 'accept_escorts')


def test_a_failed_undock_is_tried_again_at_the_next_opening(calendar):
    cycle, clock, _ = make_cycle(calendar, at(MONDAY, '07:30'), undock_retries=0)
    assert cycle.undock_result(False) == cmds('alert(undock_failed)', 'refuse_new_escorts(undock_failed)')
    cycle.tick(at(MONDAY, '12:00'))
    assert cycle.status.phase == BEFORE_OPENING and cycle.status.fault == 'undock_failed'
    assert cycle.tick(at(MONDAY, '14:00')) == cmds('refuse_new_escorts(docked)', 'undock')


def test_a_blocked_dock_is_retried_then_reported(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:59'), dock_retries=1)
    assert cycle.tick(clock.advance(minutes=1))[-1] == Command(DOCK)
    assert cycle.dock_result(False) == cmds('dock')
    assert cycle.dock_result(False) == cmds('alert(dock_failed)')
    assert cycle.tick(clock.advance(minutes=5)) == []
    assert cycle.status.fault == 'dock_failed' and not cycle.status.docked
    assert cycle.clear_fault() == cmds('dock')
    cycle.dock_result(True)
    assert cycle.status.phase == CLOSED


def test_results_nobody_asked_for_are_ignored(calendar):
    cycle, clock = open_and_out(calendar)
    assert cycle.undock_result(True) == [] and cycle.dock_result(False) == []
    assert not cycle.status.docked and cycle.status.fault is None


# --- battery ------------------------------------------------------------------------------------------

def test_low_battery_refuses_new_escorts_finishes_the_current_one_docks_and_resumes(calendar):
    cycle, clock = open_and_out(calendar)
    cycle.visitor_busy(True)
    assert cycle.battery_low() == cmds('refuse_new_escorts(battery_low)')  # no dock while escorting
    assert cycle.status.screen[0] == SCREEN_ROBOT_CHARGING
    assert cycle.visitor_busy(False) == cmds('dock')
    assert cycle.dock_result(True) == []
    assert cycle.status.phase == OPEN and cycle.status.reason == 'battery_low'
    assert cycle.tick(clock.advance(hours=1)) == []  # charging
    assert cycle.battery_ok_to_resume() == cmds('refuse_new_escorts(docked)', 'undock')
    assert cycle.undock_result(True) == cmds('go_home', 'accept_escorts')


def test_charged_enough_after_closing_stays_docked(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:00'))
    cycle.battery_low()
    cycle.dock_result(True)
    cycle.tick(at(MONDAY, '17:00'))
    assert cycle.status.screen[0] == SCREEN_OFFICE_CLOSED  # outside hours visitors need the hours, not the charge
    assert cycle.battery_ok_to_resume() == cmds('refuse_new_escorts(office_closed)')
    assert cycle.status.phase == CLOSED


def test_low_battery_at_opening_keeps_the_robot_charging(calendar):
    cycle, clock, _ = make_cycle(calendar, at(MONDAY, '07:00'))
    cycle.battery_low()
    assert cycle.tick(at(MONDAY, '07:30')) == []
    assert cycle.status.phase == OPENING and cycle.status.docked
    assert cycle.battery_event('battery_ok_to_resume') == cmds('refuse_new_escorts(docked)', 'undock')


def test_critical_battery_stops_where_it_is_and_alerts_staff(calendar):
    cycle, clock = open_and_out(calendar)
    cycle.visitor_busy(True)
    assert cycle.battery_critical() == cmds('stop_here', 'alert(battery_critical)',
                                            'refuse_new_escorts(battery_critical)')
    assert cycle.visitor_busy(False) == []  # no dock: it must not drive any more
    assert cycle.tick(at(MONDAY, '17:00')) == []  # not even at closing
    assert cycle.battery_critical() == []  # reported once
    # Staff push it onto the dock; it charges and carries on the next morning.
    cycle.set_docked(True)
    assert cycle.status.phase == CLOSED
    cycle.battery_ok_to_resume()
    assert cycle.tick(at(MONDAY + timedelta(days=3), '07:30')) == cmds('refuse_new_escorts(docked)', 'undock')


def test_critical_battery_during_docking_cancels_the_dock(calendar):
    cycle, clock = open_and_out(calendar)
    cycle.battery_low()  # -> dock
    assert cycle.pending == DOCK
    assert cycle.battery_critical()[:2] == cmds('stop_here', 'alert(battery_critical)')
    assert cycle.dock_result(True) == [] and not cycle.status.docked  # the cancelled dock's late answer


def test_critical_battery_on_the_dock_only_alerts(calendar):
    cycle, clock, _ = make_cycle(calendar, at(MONDAY, '06:00'))
    assert cycle.battery_critical() == cmds('alert(battery_critical)', 'refuse_new_escorts(battery_critical)')
    assert STOP_HERE not in {c.kind for c in cycle.battery_low()}


def test_unknown_battery_events_are_refused(calendar):
    cycle, _, _ = make_cycle(calendar, at(MONDAY, '06:00'))
    with pytest.raises(ValueError):
        cycle.battery_event('battery_great')


# --- staff overrides ----------------------------------------------------------------------------------

def test_stay_out_keeps_the_robot_out_past_closing_until_released(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:59'))
    assert cycle.stay_out() == []
    assert cycle.tick(clock.advance(minutes=1)) == []  # 16:00: no dock, still accepting
    assert cycle.status.phase == CLOSING and cycle.status.accepting_escorts and cycle.status.override == 'stay_out'
    assert cycle.release_override() == cmds('refuse_new_escorts(office_closed)', 'dock')


def test_stay_out_undocks_a_docked_robot_outside_hours(calendar):
    cycle, clock, _ = make_cycle(calendar, at(MONDAY, '18:00'))
    assert cycle.stay_out() == cmds('refuse_new_escorts(docked)', 'undock')
    assert cycle.status.phase == CLOSING  # out of the dock (or leaving it) in a closed office
    assert cycle.undock_result(True) == cmds('go_home', 'accept_escorts')
    assert cycle.status.phase == CLOSING


def test_low_battery_wins_over_stay_out(calendar):
    cycle, clock = open_and_out(calendar)
    cycle.stay_out()
    assert cycle.battery_low() == cmds('refuse_new_escorts(battery_low)', 'dock')


def test_dock_now_docks_at_once_even_with_a_visitor_and_holds_until_released(calendar):
    cycle, clock = open_and_out(calendar)
    cycle.visitor_busy(True)
    assert cycle.dock_now() == cmds('refuse_new_escorts(staff_dock_now)', 'dock')
    cycle.dock_result(True)
    assert cycle.tick(clock.advance(hours=1)) == []
    assert cycle.release_override() == cmds('refuse_new_escorts(docked)', 'undock')


def test_dock_now_ends_at_the_next_opening(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '11:00'))
    cycle.dock_now()
    cycle.dock_result(True)
    cycle.tick(at(MONDAY, '12:00'))
    assert cycle.tick(at(MONDAY, '14:00')) == cmds('refuse_new_escorts(docked)', 'undock')
    assert cycle.status.override == 'none'


def test_stay_out_overrides_dock_now_and_back(calendar):
    cycle, clock = open_and_out(calendar)
    cycle.dock_now()
    assert cycle.stay_out() == cmds('accept_escorts')  # the dock is still running; it comes out afterwards
    assert cycle.dock_result(True) == cmds('refuse_new_escorts(docked)', 'undock')


def test_nothing_happens_before_the_first_tick(calendar):
    cycle = DayCycle(calendar)
    assert cycle.battery_low() == [] and cycle.stay_out() == [] and cycle.visitor_busy(True) == []
    assert cycle.status.phase == CLOSED and cycle.status.next_opening is None


def test_commands_print_as_the_brief_names_them():
    assert str(Command(REFUSE_NEW_ESCORTS, 'battery_low')) == 'refuse_new_escorts(battery_low)'
    assert str(Command(GO_HOME)) == 'go_home' and str(Command(ALERT, 'dock_failed')) == 'alert(dock_failed)'
    assert {ACCEPT_ESCORTS, CLOSED, CLOSING, OPEN} == {'accept_escorts', 'closed', 'closing', 'open'}


# --- a whole day with the simulated battery -------------------------------------------------------------

def simulate(cycle: DayCycle, battery, policy, start: datetime, minutes: int) -> list[tuple[datetime, str]]:
    """Run minute by minute: dock and undock always succeed at once; out of the dock the robot drives 15 %
    and speaks 10 % of the time (the typical duty cycle). Returns the commands with their times."""
    from l2b2_office.battery import TYPICAL_DUTY

    log: list[tuple[datetime, str]] = []
    now = start

    def run(commands: list[Command]) -> None:
        for command in commands:
            log.append((now, str(command)))
            if command.kind == UNDOCK:
                run(cycle.undock_result(True))
            elif command.kind == DOCK:
                run(cycle.dock_result(True))

    for minute in range(minutes):
        run(cycle.tick(now))
        phase_of_100 = minute % 100
        out = not cycle.docked
        battery.step(60.0, driving=out and phase_of_100 < 100 * TYPICAL_DUTY.driving,
                     speaking=out and 100 * TYPICAL_DUTY.driving <= phase_of_100 < 100 * (TYPICAL_DUTY.driving
                                                                                         + TYPICAL_DUTY.speaking),
                     charging=cycle.docked)
        for event in policy.update(battery.percent):
            run(cycle.battery_event(event))
        now += timedelta(minutes=1)
    return log


def test_a_full_charge_lasts_the_longest_day_and_recharges_overnight(calendar):
    from l2b2_office.battery import BatteryModel, BatteryPolicy

    thursday = MONDAY + timedelta(days=3)  # 07:30-12:00 and 14:00-18:00
    cycle, battery, policy = DayCycle(calendar), BatteryModel(), BatteryPolicy()
    log = simulate(cycle, battery, policy, at(thursday, '06:00'), 24 * 60)
    kinds = [text for _, text in log if text in (UNDOCK, DOCK, GO_HOME)]
    assert kinds == ['undock', 'go_home', 'dock', 'undock', 'go_home', 'dock']  # out, lunch on the dock, out, night
    assert not any('battery' in text for _, text in log)
    assert cycle.docked and battery.percent == 100.0


def test_a_robot_starting_the_day_nearly_empty_docks_to_charge_and_comes_back(calendar):
    from l2b2_office.battery import BatteryModel, BatteryPolicy

    cycle, battery, policy = DayCycle(calendar), BatteryModel(initial_percent=25.0), BatteryPolicy()
    log = simulate(cycle, battery, policy, at(MONDAY, '07:30'), 4 * 60)
    texts = [text for _, text in log]
    assert texts[:3] == ['refuse_new_escorts(docked)', 'undock', 'go_home']
    low = texts.index('refuse_new_escorts(battery_low)')
    assert texts[low + 1] == 'dock'
    resumed = [when for when, text in log if text == 'undock'][1]
    docked_at = log[low][0]
    # 20 % -> 80 % of 480 Wh at 160 W is 1.8 h on the dock.
    assert resumed - docked_at == pytest.approx(timedelta(hours=1.8), abs=timedelta(minutes=2))
    assert texts[-1] == 'accept_escorts' and cycle.status.accepting_escorts


def test_a_dock_that_never_charges_is_docked_again_then_reported(calendar):
    """Docked by our own dock, but the charger never charges: not 'carried off the dock' (which would dock again
    for ever without a word) but a failed dock, retried, then an alert."""
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:59'), dock_retries=1)
    assert cycle.tick(clock.advance(minutes=1))[-1] == Command(DOCK)
    assert cycle.dock_result(True) == []
    assert cycle.charger(False) == cmds('dock')  # try once more
    assert cycle.dock_result(True) == []
    assert cycle.charger(False) == cmds('alert(dock_failed)')
    assert cycle.status.fault == 'dock_failed' and not cycle.status.docked
    assert cycle.tick(clock.advance(minutes=5)) == []
    assert cycle.clear_fault() == cmds('dock')
    cycle.dock_result(True)
    assert cycle.charger(True) == [] and cycle.status.docked and cycle.status.phase == CLOSED


def test_charging_after_a_dock_counts_as_docked_and_a_later_carry_off_is_believed(calendar):
    cycle, clock = open_and_out(calendar, at(MONDAY, '15:59'), dock_retries=0)
    cycle.tick(clock.advance(minutes=1))
    cycle.dock_result(True)
    assert cycle.charger(True) == []
    assert cycle.charger(False) == cmds('dock')  # carried off the dock: dock again, no alert
    assert cycle.status.fault is None

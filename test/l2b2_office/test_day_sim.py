"""The simulated office day (l2b2_office/day_sim.py, day_model.py): deterministic, at the configured rate, with a
charge, docked after closing, figures equal to the truth, and a holiday without service."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
import statistics

import pytest

from l2b2_common.catalog import load_catalog
from l2b2_common.maps import load_waypoints
from l2b2_office.day_model import DEFAULT_DATE, DaySettings
from l2b2_office.day_sim import OfficeDay
from l2b2_office.office_config import load_office_config

#: Christmas Day 2026, a Friday: a holiday in config/office.yaml on a day the office is normally open.
HOLIDAY = date(2026, 12, 25)


#: The files, read once for every simulated day here (reading them takes longer than drawing a day's visitors).
FILES = {'config': load_office_config(), 'catalog': load_catalog(), 'waypoints': load_waypoints()}


def office(settings: DaySettings) -> OfficeDay:
    return OfficeDay(settings, **FILES)


def simulate(settings: DaySettings):
    return office(settings).run()


@pytest.fixture(scope='module')
def day():
    return simulate(DaySettings())


def test_same_seed_same_day():
    a, b = simulate(DaySettings(seed=7)), simulate(DaySettings(seed=7))
    assert a.figures == b.figures
    assert a.hours == b.hours and a.truth == b.truth and a.events == b.events
    other = office(DaySettings(seed=8)).arrivals()
    assert [v.arrived for v in other] != [v.arrived for v in office(DaySettings(seed=7)).arrivals()]


def test_arrivals_follow_the_daily_rate_with_a_morning_peak():
    settings = DaySettings()
    daily = settings.visitors.daily_mean
    assert daily == pytest.approx(3500 / 21)
    days = [office(replace(settings, seed=seed)).arrivals() for seed in range(20)]
    mean = statistics.mean(len(d) for d in days)
    assert abs(mean - daily) < 0.06 * daily  # 20 days: the mean's standard deviation is about 2.9
    every = [v for d in days for v in d]
    assert all(v.language in ('de', 'tr', 'en') for v in every)
    assert {v.intent for v in every} == {'escort', 'checkin', 'ticket', 'question'}
    peak = sum(1 for v in every if v.arrived.hour == 9)
    afternoon = sum(1 for v in every if v.arrived.hour == 14)
    assert peak > 2 * afternoon
    # Everyone arrives while the office is open, for a department open at that moment.
    calendar = office(settings).calendar
    for v in every:
        assert calendar.office_open(v.arrived)
        assert calendar.is_open(v.department, v.arrived)


def test_the_rate_scales_with_the_monthly_visitors():
    settings = DaySettings()
    busy = replace(settings, visitors=replace(settings.visitors, visitors_per_month=7000.0))
    counts = [len(office(replace(busy, seed=seed)).arrivals()) for seed in range(10)]
    assert abs(statistics.mean(counts) - 7000 / 21) < 0.06 * 7000 / 21


def test_the_bench_battery_needs_a_charge_the_real_one_does_not(day):
    assert day.figures['capacity_wh'] == 100.0
    assert day.figures['charges'] >= 1
    assert any('battery_low' in line for line in day.events)
    assert any('battery_ok_to_resume' in line for line in day.events)
    real = simulate(DaySettings(capacity_wh=None))
    assert real.figures['capacity_wh'] == load_office_config().params.battery_capacity_wh
    assert real.figures['charges'] == 0 and real.figures['visitors_refused_low_battery'] == 0


def test_a_small_battery_refuses_escorts_while_charging():
    small = simulate(DaySettings(capacity_wh=50.0))
    f = small.figures
    assert f['charges'] >= 2
    assert f['visitors_refused_low_battery'] > 0
    assert f['docked_after_close'] and f['figures_match_truth']


def test_docked_after_close_and_everyone_accounted_for(day):
    f = day.figures
    assert f['docked_after_close'] is True
    assert f['visitors_arrived'] > 0 and f['visitors_served'] > 0
    assert f['visitors_arrived'] == f['visitors_served'] + f['visitors_left_waiting'] + f['visitors_unserved_at_end']
    assert f['visitors_refused_low_battery'] <= f['visitors_served']
    assert f['escorts'] > 0 and f['checkins'] > 0 and f['tickets'] > 0
    assert 0 < f['battery_min_percent'] < 100
    assert f['critical_stops'] == 0
    # The day cycle undocked at opening, docked for lunch (a two-hour break) and at closing.
    assert f['undocks'] >= 2 and f['dockings'] >= 2
    assert day.hours[-1]['docked'] is True


def test_figures_match_truth(day):
    assert day.figures['figures_match_truth'] is True
    assert day.mismatches == []
    assert day.stored == day.truth
    assert day.truth['conversations'] == day.figures['visitors_served']
    assert day.truth['greeted'] == day.figures['visitors_arrived']
    assert sum(n for c, n in day.truth.items() if c.startswith('language_')) == day.truth['conversations']
    escorts = sum(n for c, n in day.truth.items() if c.startswith('escort_'))
    assert escorts == day.figures['escorts']


def test_alerts_are_counted(day):
    f = day.figures
    assert f['alerts_raised'] == sum(f['alerts_by_kind'].values())
    assert f['alerts_raised'] == sum(n for c, n in day.truth.items() if c.startswith('alert_'))


def test_a_holiday_has_no_visitors_and_the_robot_stays_docked():
    config = load_office_config()
    assert HOLIDAY in config.holidays and HOLIDAY.weekday() == 4
    normal = office(DaySettings(day=HOLIDAY - timedelta(days=7)))  # the Friday before: open
    assert normal.intervals
    result = simulate(DaySettings(day=HOLIDAY))
    f = result.figures
    assert f['opening'] == []
    assert f['visitors_arrived'] == 0 and f['visitors_served'] == 0
    assert f['undocks'] == 0 and f['dockings'] == 0 and f['charges'] == 0
    assert f['docked_after_close'] is True and f['figures_match_truth'] is True
    assert all(h['docked'] for h in result.hours)
    assert not any('undock' in line for line in result.events)


def test_the_default_day_is_a_normal_weekday():
    assert DEFAULT_DATE.weekday() < 5
    assert DEFAULT_DATE not in load_office_config().holidays
    day = office(DaySettings())
    assert day.intervals[0][0] <= datetime.combine(DEFAULT_DATE, datetime.min.time(), day.tz) + \
        timedelta(hours=10) < day.intervals[0][1]


def test_a_kept_database_holds_the_day(tmp_path):
    from l2b2_office.figures import FiguresStore

    path = tmp_path / 'day.sqlite'
    result = simulate(DaySettings(database=str(path)))
    with FiguresStore(path, readonly=True) as store:
        (row,) = store.summary('day', DEFAULT_DATE, DEFAULT_DATE)
    assert row.counts['conversations'] == result.figures['visitors_served']

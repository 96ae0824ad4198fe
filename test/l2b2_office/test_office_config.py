"""config/office.yaml: the shipped file is valid and correct, and every mistake names file, key and reason."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from l2b2_common.config import ConfigError, config_path, load_yaml
from l2b2_office.battery import TYPICAL_DUTY
from l2b2_office.office_config import load_office_config


def easter_sunday(year: int) -> date:
    """The Gregorian Easter Sunday (anonymous Gregorian algorithm), to check the movable feasts."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def baden_wuerttemberg_holidays(year: int) -> set[date]:
    easter = easter_sunday(year)
    fixed = {(1, 1), (1, 6), (5, 1), (10, 3), (11, 1), (12, 25), (12, 26)}
    return {date(year, m, d) for m, d in fixed} | {easter + timedelta(days=n) for n in (-2, 1, 39, 50, 60)}


def write(tmp_path: Path, params: str) -> Path:
    path = tmp_path / 'office.yaml'
    path.write_text('office:\n  ros__parameters:\n' + params, encoding='utf-8')
    return path


def test_easter_is_computed_right():
    assert easter_sunday(2026) == date(2026, 4, 5)
    assert easter_sunday(2027) == date(2027, 3, 28)


def test_the_shipped_file_has_every_baden_wuerttemberg_holiday_of_2026_and_2027():
    config = load_office_config()
    assert baden_wuerttemberg_holidays(2026) | baden_wuerttemberg_holidays(2027) <= config.holidays
    assert date(2027, 3, 26) in config.holidays and date(2027, 5, 27) in config.holidays
    assert config.tz.key == 'Europe/Berlin'


def test_the_shipped_battery_lasts_about_18_hours_on_a_typical_day():
    config = load_office_config()
    hours = config.battery_model().time_to_empty_s() / 3600
    assert 18 * 0.9 <= hours <= 18 * 1.1
    assert config.battery_model().typical_load_w(TYPICAL_DUTY) == pytest.approx(27.0)
    assert config.battery_policy().low_percent == 20.0


def test_the_shipped_file_sets_every_key_the_loader_knows():
    # Keys left out silently take code defaults; the site file documents them all.
    from l2b2_office.office_config import _Params
    values = load_yaml(config_path('office.yaml'))['office']['ros__parameters']
    assert set(values) == set(_Params.model_fields)


def test_defaults_apply_to_a_minimal_file(tmp_path):
    config = load_office_config(write(tmp_path, '    undock_retries: 5\n'))
    assert config.day_cycle.undock_retries == 5 and config.day_cycle.dock_retries == 2
    assert config.holidays == frozenset()


def test_an_unquoted_date_is_read_as_well(tmp_path):
    config = load_office_config(write(tmp_path, '    holidays: [2026-12-25]\n'))
    assert config.holidays == {date(2026, 12, 25)}


@pytest.mark.parametrize(('params', 'key', 'reason'), [
    ('    closing_notice_minuts: 15.0\n', 'office.ros__parameters.closing_notice_minuts', 'unknown key'),
    ('    holidays: ["2026-12-25", "2026-02-30"]\n', 'office.ros__parameters.holidays[1]', 'not a valid date'),
    ('    holidays: ["25.12.2026"]\n', 'office.ros__parameters.holidays[0]', 'not a date (YYYY-MM-DD)'),
    ('    holidays: ["2026-12-25", "2026-12-25"]\n', 'office.ros__parameters.holidays[1]', 'listed twice'),
    ('    timezone: Europe/Ludwigsburg\n', 'office.ros__parameters.timezone', 'not a known time zone'),
    ('    battery_capacity_wh: "480"\n', 'office.ros__parameters.battery_capacity_wh', 'got str'),
    ('    dock_retries: -1\n', 'office.ros__parameters.dock_retries', 'greater than or equal to 0'),
    ('    battery_low_percent: 5.0\n', 'office.ros__parameters.battery_critical_percent', 'below battery_low'),
    ('    battery_resume_percent: 15.0\n', 'office.ros__parameters.battery_resume_percent', 'above battery_low'),
])
def test_mistakes_name_the_file_the_key_and_the_reason(tmp_path, params, key, reason):
    path = write(tmp_path, params)
    with pytest.raises(ConfigError) as err:
        load_office_config(path)
    assert err.value.path == str(path)
    assert err.value.key == key
    assert reason in err.value.reason


def test_a_misspelt_node_name_is_reported(tmp_path):
    path = tmp_path / 'office.yaml'
    path.write_text('ofice:\n  ros__parameters: {}\n', encoding='utf-8')
    with pytest.raises(ConfigError) as err:
        load_office_config(path)
    assert err.value.key == 'ofice' and 'unknown key' in err.value.reason


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match='file not found'):
        load_office_config(tmp_path / 'nope.yaml')

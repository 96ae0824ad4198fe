"""The simulated battery and its thresholds, stepped with a fake clock (one call per simulated interval)."""
from __future__ import annotations

import math

import pytest

from l2b2_office.battery import (
    BATTERY_CRITICAL,
    BATTERY_LOW,
    BATTERY_OK_TO_RESUME,
    CRITICAL,
    LOW,
    OK,
    TYPICAL_DUTY,
    BatteryModel,
    BatteryPolicy,
    DutyCycle,
)

HOUR = 3600.0


def run_typical_day_until_empty(battery: BatteryModel, duty: DutyCycle = TYPICAL_DUTY) -> float:
    """Seconds until empty with a realistic mix: each 100 s drives for duty.driving x 100 s, then speaks, then idles."""
    drive_s, speak_s = 100 * duty.driving, 100 * duty.speaking
    t = 0.0
    while battery.percent > 0:
        battery.step(drive_s, driving=True)
        battery.step(speak_s, speaking=True)
        battery.step(100 - drive_s - speak_s)
        t += 100
    return t


def test_typical_day_lasts_about_18_hours_from_full():
    battery = BatteryModel()
    hours = run_typical_day_until_empty(battery) / HOUR
    assert 18 * 0.9 <= hours <= 18 * 1.1
    assert BatteryModel().time_to_empty_s() / HOUR == pytest.approx(hours, abs=0.05)


def test_driving_drains_faster_than_speaking_faster_than_idle():
    idle, driving, speaking = BatteryModel(), BatteryModel(), BatteryModel()
    idle.step(HOUR)
    driving.step(HOUR, driving=True)
    speaking.step(HOUR, speaking=True)
    assert driving.percent < speaking.percent < idle.percent < 100
    assert 100 - idle.percent == pytest.approx(100 * 20 / 480)  # 20 W idle for an hour of 480 Wh


def test_the_battery_never_goes_below_empty_or_above_full():
    battery = BatteryModel(initial_percent=1.0)
    battery.step(10 * HOUR, driving=True)
    assert battery.percent == 0.0
    battery.step(24 * HOUR, charging=True)
    assert battery.percent == 100.0
    assert battery.time_to_full_s() == 0.0


def test_charges_to_full_in_the_configured_time_without_taper():
    battery = BatteryModel(initial_percent=0.0, capacity_wh=480.0, charging_w=160.0, taper_start_percent=100.0)
    assert battery.time_to_full_s() == pytest.approx(3 * HOUR)
    battery.step(3 * HOUR - 60, charging=True)
    assert battery.percent < 100
    battery.step(60, charging=True)
    assert battery.percent == pytest.approx(100.0)
    assert battery.charging


def test_tapered_charge_matches_its_predicted_time_to_full():
    battery = BatteryModel(initial_percent=0.0)
    predicted = battery.time_to_full_s()
    assert 3.5 * HOUR < predicted < 4.5 * HOUR  # the documented "about 4 h"
    # 2.4 h at full power to 80 %, then slower.
    assert BatteryModel(initial_percent=0.0, taper_start_percent=100.0).time_to_full_s() < predicted
    elapsed = 0.0
    while battery.percent < 99.999:
        battery.step(30, charging=True)
        elapsed += 30
    assert elapsed == pytest.approx(predicted, abs=120)


def test_time_to_full_shrinks_while_charging_and_the_power_tapers():
    battery = BatteryModel(initial_percent=50.0)
    first = battery.time_to_full_s()
    battery.step(HOUR, charging=True)
    assert battery.time_to_full_s() == pytest.approx(first - HOUR, abs=30)
    assert battery.charge_power_w(50.0) == 160.0
    assert battery.charge_power_w(90.0) == pytest.approx(80.0)
    assert battery.charge_power_w(99.0) == pytest.approx(160.0 * 0.2)


def test_the_step_size_does_not_change_the_charge():
    coarse, fine = BatteryModel(initial_percent=70.0), BatteryModel(initial_percent=70.0)
    coarse.step(HOUR, charging=True)
    for _ in range(3600):
        fine.step(1.0, charging=True)
    assert coarse.percent == pytest.approx(fine.percent, abs=1e-6)


def test_time_to_empty_without_load_is_infinite():
    assert math.isinf(BatteryModel(idle_w=0.0).time_to_empty_s(0.0))


@pytest.mark.parametrize('kwargs', [{'capacity_wh': 0}, {'idle_w': -1}, {'initial_percent': 101},
                                    {'taper_start_percent': 0}, {'taper_min_fraction': 0}])
def test_nonsense_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        BatteryModel(**kwargs)


def test_policy_fires_low_once_then_critical_once():
    policy = BatteryPolicy(low_percent=20, critical_percent=8, resume_percent=80)
    assert policy.update(50) == []
    assert policy.update(19.9) == [BATTERY_LOW]
    assert policy.update(15) == []
    assert policy.level == LOW
    assert policy.update(7.9) == [BATTERY_CRITICAL]
    assert policy.update(5) == []
    assert policy.level == CRITICAL


def test_policy_hysteresis_resumes_only_at_resume_percent():
    policy = BatteryPolicy(low_percent=20, critical_percent=8, resume_percent=80)
    policy.update(19)
    for percent in (21, 40, 79.9, 19, 21):  # charging past low (or wobbling around it) is not enough
        assert policy.update(percent) == []
    assert policy.update(80) == [BATTERY_OK_TO_RESUME]
    assert policy.level == OK
    assert policy.update(79) == []  # below resume but above low: still fine


def test_policy_from_critical_resumes_at_resume_percent():
    policy = BatteryPolicy()
    assert policy.update(5) == [BATTERY_LOW, BATTERY_CRITICAL]  # a jump straight to critical reports both
    assert policy.update(30) == []
    assert policy.update(85) == [BATTERY_OK_TO_RESUME]


def test_policy_refuses_inconsistent_thresholds():
    with pytest.raises(ValueError):
        BatteryPolicy(low_percent=10, critical_percent=15)
    with pytest.raises(ValueError):
        BatteryPolicy(low_percent=50, resume_percent=40)

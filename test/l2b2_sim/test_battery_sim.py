"""The simulator's /battery follows config/office.yaml's battery model: idle, driving and speaking loads,
no charging off the dock, the start charge back on /sim/reset."""
from __future__ import annotations

import importlib.util
import pathlib
import time

from geometry_msgs.msg import Twist, Vector3
from l2b2_interfaces.msg import SpeechStatus
import pytest
from sensor_msgs.msg import BatteryState
from std_srvs.srv import Trigger

from l2b2_common.qos import STATUS
from l2b2_office.office_config import load_office_config

_spec = importlib.util.spec_from_file_location('l2b2_sim_test_harness',
                                               pathlib.Path(__file__).with_name('sim_harness.py'))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)


def _t(msg: BatteryState) -> float:
    return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9


def _watts(a: BatteryState, b: BatteryState, capacity_wh: float) -> float:
    """The mean power drawn between two messages."""
    return (a.percentage - b.percentage) * capacity_wh * 3600.0 / (_t(b) - _t(a))


def test_the_battery_drains_by_load_and_resets(ros):
    model = load_office_config().battery_model()
    # Free-running at twice real time, and the base keeps a turn command for 5 s of sim time: a late
    # command (a loaded machine, rclpy's multi-threaded executor busy with /clock and /odom) must not
    # stop the motors while the driving power is measured. (In lockstep, waiting for every command, the
    # simulation crawled at 0.2 x real time on an idle machine.)
    _harness.start_sim(ros, battery_initial_percent=90.0, lockstep=False, real_time_factor=2.0, cmd_timeout_s=5.0)
    probe = _harness.Probe(ros)
    node = probe.node
    seen: list[BatteryState] = []
    node.create_subscription(BatteryState, '/battery', seen.append, 100)
    cmd = node.create_publisher(Twist, '/cmd_vel', 10)
    speech = node.create_publisher(SpeechStatus, '/speech/status', STATUS)
    reset = node.create_client(Trigger, '/sim/reset')

    # The turn command is sent from the waiting loop itself, every 50 ms of wall time (no executor timer
    # to be starved).
    turning = [None, 0.0]  # the command to repeat, when it was last sent

    def keep_turning() -> None:
        if turning[0] is not None and time.monotonic() - turning[1] >= 0.05:
            cmd.publish(turning[0])
            turning[1] = time.monotonic()

    def wait(predicate, timeout: float, what: str):
        def check():
            keep_turning()
            return predicate()
        return ros.wait_for(check, timeout, what)

    def span(seconds: float) -> tuple[BatteryState, BatteryState]:
        first = wait(lambda: seen and seen[-1], 20.0, '/battery')
        end = _t(first) + seconds
        last = wait(lambda: seen[-1] if _t(seen[-1]) >= end else None, 60.0, f'{seconds} s of sim time')
        return first, last

    a, b = span(20.0)  # idle at home: home is not the dock
    assert b.power_supply_status == BatteryState.POWER_SUPPLY_STATUS_DISCHARGING
    assert b.percentage < a.percentage <= 0.9
    assert _watts(a, b, model.capacity_wh) == pytest.approx(model.idle_w, rel=0.1)

    turning[0] = Twist(angular=Vector3(z=0.5))  # turning on the spot: the motors run
    speech.publish(SpeechStatus(state=SpeechStatus.SPEAKING))
    wait(lambda: probe.odom is not None and probe.odom.twist.twist.angular.z > 0.3, 20.0, 'the base turning')
    seen.clear()
    a, b = span(20.0)
    assert _watts(a, b, model.capacity_wh) == pytest.approx(model.load_w(driving=True, speaking=True), rel=0.15)

    ros.wait_for(reset.service_is_ready, 10.0, '/sim/reset')
    assert min(m.percentage for m in seen) < 0.8999
    seen.clear()
    assert ros.wait_future(reset.call_async(Trigger.Request()), 10.0, 'reset').success
    ros.wait_for(lambda: any(m.percentage >= 0.8999 for m in seen), 20.0, 'the start charge after reset')

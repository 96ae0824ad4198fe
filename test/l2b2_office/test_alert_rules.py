"""Issue 16, staff alerts: each rule raises once, does not raise twice, clears, and counts time on a fake clock."""
from __future__ import annotations

import math

from l2b2_common.codes import HealthLevel, VisitorStatus
from l2b2_dialogue.checkin import CHECKIN_ALERT
from l2b2_office.alert_rules import AlertRules, Decision, RuleConfig

OK, DEGRADED, ERROR = int(HealthLevel.OK), int(HealthLevel.DEGRADED), int(HealthLevel.ERROR)


def up(kind, source):
    return [Decision(True, kind, source)]


def down(kind, source):
    return [Decision(False, kind, source)]


def rules(**config) -> AlertRules:
    return AlertRules(RuleConfig(**config), now=0.0)


def test_estop_engaged_and_released():
    r = rules()
    assert r.on_safety(False, 1.0) == []
    assert r.on_safety(True, 2.0) == up('estop', 'safety_gate')
    assert r.on_safety(True, 3.0) == []  # the latched state again: no second alert
    assert r.on_safety(False, 4.0) == down('estop', 'safety_gate')
    assert r.on_safety(False, 5.0) == []


def feedback(r, t, *, goal='g1', phase='navigating', dist=10.0, x=0.0, y=0.0, visitor=VisitorStatus.VISITOR_FOLLOWING):
    return r.on_escort_feedback(goal, phase, dist, int(visitor), x, y, t)


def test_stuck_after_no_progress_and_cleared_by_progress():
    r = rules(stuck_after_s=30.0, progress_m=0.3)
    assert feedback(r, 0.0) == []
    assert feedback(r, 10.0, x=0.1, dist=9.9) == []  # less than progress_m: no progress
    assert r.tick(29.9) == []
    assert r.tick(30.0) == up('stuck', 'escort')
    assert r.tick(40.0) == [] and feedback(r, 41.0, x=0.2) == []  # no double raise
    assert feedback(r, 42.0, x=0.1, dist=9.5) == down('stuck', 'escort')  # came 0.5 m closer
    assert r.tick(71.9) == []
    assert r.tick(72.0) == up('stuck', 'escort')
    assert feedback(r, 73.0, x=1.0, dist=9.5) == down('stuck', 'escort')  # moved 0.9 m (around an obstacle)


def test_stuck_not_while_waiting_paused_or_stopped_and_cleared_when_the_goal_ends():
    r = rules(stuck_after_s=30.0)
    feedback(r, 0.0)
    assert feedback(r, 25.0, phase='waiting_for_visitor') == []  # waiting for the visitor is deliberate
    assert feedback(r, 60.0, phase='paused') == []  # so is a staff pause
    assert feedback(r, 61.0, phase='navigating') == [] and r.tick(89.0) == []  # 30 s from the pause's end
    assert r.on_safety(True, 90.5) == up('estop', 'safety_gate')
    assert r.tick(200.0) == []  # time under the stop is not the robot's lack of progress
    assert r.on_safety(False, 200.0) == down('estop', 'safety_gate')
    assert r.tick(229.0) == []
    assert r.tick(230.0) == up('stuck', 'escort')
    assert r.on_escort_status([('g0', True), ('g1', True)], 231.0) == down('stuck', 'escort')
    assert feedback(r, 232.0) == []  # a late feedback of the finished goal starts nothing
    assert r.tick(500.0) == []


def test_stuck_from_the_escorts_own_failed_navigation():
    r = rules()
    assert r.on_health('escort', DEGRADED, 'escort to standesamt failed: no progress', 1.0) == up('stuck', 'escort')
    assert r.on_health('escort', DEGRADED, 'escort to standesamt failed: no progress', 2.0) == []
    assert r.on_health('escort', OK, 'at home', 3.0) == down('stuck', 'escort')
    assert r.on_health('escort', DEGRADED, 'could not return home: goal rejected', 4.0) == up('stuck', 'escort')
    assert r.on_health('escort', OK, 'escorting to meldewesen', 5.0) == down('stuck', 'escort')


def test_visitor_lost_from_escort_health_and_feedback():
    r = rules()
    feedback(r, 0.0)
    assert r.on_health('escort', DEGRADED, 'visitor lost on the way to meldewesen', 1.0) == \
        up('visitor_lost', 'escort')
    assert r.on_escort_status([('g1', True)], 1.1) == []  # the trip ended: the alert stays
    assert r.on_health('escort', DEGRADED, 'visitor lost on the way to meldewesen', 2.0) == []
    assert r.on_health('escort', OK, 'at home', 30.0) == down('visitor_lost', 'escort')

    assert feedback(r, 40.0, goal='g2', visitor=VisitorStatus.VISITOR_LOST) == up('visitor_lost', 'escort')
    assert feedback(r, 40.1, goal='g2', visitor=VisitorStatus.VISITOR_LOST) == []
    assert r.on_health('escort', OK, 'arrived at meldewesen', 41.0) == down('visitor_lost', 'escort')


def test_battery_critical_with_hysteresis():
    r = rules(battery_critical_percent=10.0, battery_clear_percent=15.0)
    assert r.on_battery(0.50, 0.0) == []
    assert r.on_battery(math.nan, 0.5) == []  # unknown charge: nothing
    assert r.on_battery(0.099, 1.0) == up('battery_critical', 'battery')
    assert r.on_battery(0.05, 2.0) == []
    assert r.on_battery(0.11, 3.0) == []  # above critical but below the clear level: still critical
    assert r.on_battery(0.099, 4.0) == []
    assert r.on_battery(0.15, 5.0) == down('battery_critical', 'battery')
    assert r.on_battery(0.12, 6.0) == []  # not critical until below 10 % again
    assert r.on_battery(0.09, 7.0) == up('battery_critical', 'battery')


def test_queue_down_after_a_while_in_error():
    r = rules(queue_down_after_s=60.0, node_missing_after_s=1000.0)
    assert r.on_health('queue_bridge', OK, 'appointment system reachable', 0.0) == []
    assert r.on_health('queue_bridge', DEGRADED, 'check-in failed: not found', 1.0) == []  # not down
    assert r.on_health('queue_bridge', ERROR, 'appointment system unavailable: circuit open', 10.0) == []
    assert r.on_health('queue_bridge', ERROR, 'appointment system unavailable: circuit open', 69.0) == []
    assert r.on_health('queue_bridge', ERROR, 'appointment system unavailable: circuit open', 70.0) == \
        up('queue_down', 'queue_bridge')
    assert r.tick(80.0) == []
    assert r.on_health('queue_bridge', OK, 'appointment system reachable', 90.0) == down('queue_down', 'queue_bridge')
    # A short outage (under the threshold) raises nothing, and the clock starts over.
    r.on_health('queue_bridge', ERROR, 'appointment system unavailable', 100.0)
    r.on_health('queue_bridge', OK, 'appointment system reachable', 150.0)
    r.on_health('queue_bridge', ERROR, 'appointment system unavailable', 151.0)
    assert r.tick(210.0) == []
    assert r.tick(211.0) == up('queue_down', 'queue_bridge')


def test_node_missing_when_silent_or_failing_and_back_again():
    r = rules(node_missing_after_s=15.0)
    assert r.on_health('asr', OK, 'ready', 0.0) == []
    assert r.on_health('tts', OK, 'ready', 0.0) == []
    assert r.on_health('alerts', OK, 'ready', 0.0) == []  # itself: never missing
    for t in range(1, 15):
        assert r.on_health('tts', OK, 'ready', float(t)) == []
    assert r.tick(15.0) == up('node_missing', 'asr')
    assert r.tick(20.0) == []
    assert r.on_health('asr', OK, 'ready', 21.0) == down('node_missing', 'asr')
    # Reporting, but in ERROR for that long, counts as well (the queue bridge's ERROR is queue_down).
    assert r.on_health('asr', ERROR, 'model missing', 22.0) == []
    assert r.on_health('queue_bridge', ERROR, 'appointment system unavailable', 22.0) == []
    for t in (22.0, 36.0):
        assert r.on_health('tts', OK, 'ready', t) == []
        assert r.on_health('queue_bridge', ERROR, 'appointment system unavailable', t) == []
    assert r.on_health('asr', ERROR, 'model missing', 36.0) == []
    got = r.on_health('asr', ERROR, 'model missing', 37.0)
    assert Decision(True, 'node_missing', 'asr') in got and Decision(True, 'node_missing', 'queue_bridge') not in got
    assert r.on_health('asr', DEGRADED, 'touch screen only', 38.0) == down('node_missing', 'asr')


def test_expected_component_never_seen_counts_as_missing():
    r = AlertRules(RuleConfig(node_missing_after_s=15.0, expected_components=['dialogue', 'bad name!']), now=100.0)
    assert r.tick(114.0) == []
    assert r.tick(115.0) == up('node_missing', 'dialogue')
    assert r.on_health('dialogue', OK, 'ready', 116.0) == down('node_missing', 'dialogue')


def test_checkin_failures_from_the_dialogue_health():
    r = rules()
    assert r.on_health('dialogue', DEGRADED, 'queue unavailable (timeout)', 0.0) == []  # another warning
    assert r.on_health('dialogue', DEGRADED, CHECKIN_ALERT, 1.0) == up('checkin_failures', 'dialogue')
    assert r.on_health('dialogue', DEGRADED, CHECKIN_ALERT, 2.0) == []
    assert r.on_health('dialogue', OK, 'ready', 3.0) == down('checkin_failures', 'dialogue')


def test_health_from_odd_component_names_is_ignored():
    r = rules(node_missing_after_s=1.0)
    assert r.on_health('Frau Müller', OK, 'hello', 0.0) == []
    assert r.tick(100.0) == []

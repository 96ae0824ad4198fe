"""Escorts on the simulated Bürgerbüro: the real stack (simulator, sim navigator, safety gate, person
tracker, escort) on simulated time, faster than real time, lockstep with the controller.

Every behaviour is covered here, and every target of the department catalog is escorted there and
back (``l2b2-bench nav`` drives the same escorts and measures them).
"""
from __future__ import annotations

import math

from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth
import pytest

from l2b2_common.catalog import load_catalog
from l2b2_common.maps import load_waypoints
from l2b2_navigation.bench import Scenario, SimStack

ARRIVED, VISITOR_LOST, NAVIGATION_FAILED = Escort.Result.ARRIVED, Escort.Result.VISITOR_LOST, \
    Escort.Result.NAVIGATION_FAILED


def start(ros, **kwargs) -> Scenario:
    # 3x real time, not as fast as possible: the tracker and the escort are not in lockstep with the
    # simulator, and on a loaded 2-core machine they fell behind a free-running one.
    stack = SimStack(ros.add, ros.context, **{"real_time_factor": 3.0, **kwargs})
    stack.wait_ready(ros.wait_for, timeout=30.0)
    sc = Scenario(stack, ros.wait_for, ros.wait_future)
    sc.reset()
    return sc


def waypoint(target: str):
    return load_waypoints()[load_catalog()[target].waypoint]


def travelled(sc: Scenario, minimum: float) -> bool:
    x, y, _ = sc.robot_pose()
    home = load_waypoints()['home']
    return math.hypot(x - home.x, y - home.y) >= minimum


@pytest.mark.slow
@pytest.mark.parametrize('target', load_catalog().ids())
def test_escort_with_following_visitor_arrives_and_robot_returns_home(ros, target):
    sc = start(ros, escort={'dwell_s': 2.0})
    vid = sc.spawn_behind(1.0, 'follow', 1.0, towards=sc.first_heading_point(target))
    res = sc.result(sc.send(target, language='tr'), timeout=180.0)
    assert res.result.outcome == ARRIVED, res.result.message
    goal = waypoint(target)
    assert res.result.path_length_m > 0.8 * math.dist((goal.x, goal.y), (6.0, 4.0))
    assert all(f.visitor_status in (Escort.Feedback.VISITOR_FOLLOWING, Escort.Feedback.VISITOR_NONE)
               for f in sc.probe.feedback[len(sc.probe.feedback) // 4:]), 'the follower was never lost'
    sc.wait(lambda: any(s.language == 'tr' and s.text.startswith('Geldik') for s in sc.probe.said), 10, 'arrival')
    sc.set_visitor(vid, 'remove')  # handed over at the counter: the visitor stays
    sc.wait_home(timeout=180.0)
    # Where it stood for the hand-over (its last status before it left for home): read after the result,
    # the pose could already be on the way home, the dwell being 0.7 s of wall time at 3x.
    stood = sc.probe.last_in_mode['escorting'].pose.pose.position
    assert math.hypot(stood.x - goal.x, stood.y - goal.y) < 0.5
    home = load_waypoints()['home']
    x, y, _ = sc.robot_pose()
    assert math.hypot(x - home.x, y - home.y) < 0.5


@pytest.mark.slow
def test_visitor_falls_behind_robot_waits_asks_and_resumes(ros):
    sc = start(ros)
    target = 'meldestelle'
    vid = sc.spawn_behind(1.0, 'follow', 1.0, towards=sc.first_heading_point(target))
    handle = sc.send(target)
    sc.wait(lambda: travelled(sc, 3.0), 60, 'robot under way')
    sc.set_visitor(vid, 'stop')
    sc.wait(lambda: any(f.phase == 'waiting_for_visitor' for f in sc.probe.feedback), 60, 'robot waits')
    sc.wait(lambda: any(s.text == 'Bitte folgen Sie mir.' for s in sc.probe.said), 30, 'request to follow')
    assert any(f.visitor_status == Escort.Feedback.VISITOR_FALLING_BEHIND for f in sc.probe.feedback)
    sc.set_visitor(vid, 'follow', speed=1.2)
    res = sc.result(handle, timeout=180.0)
    assert res.result.outcome == ARRIVED, res.result.message
    waited = [i for i, f in enumerate(sc.probe.feedback) if f.phase == 'waiting_for_visitor']
    assert any(f.phase == 'navigating' for f in sc.probe.feedback[waited[-1]:]), 'resumed after waiting'


@pytest.mark.slow
def test_visitor_who_leaves_is_given_up_staff_told_robot_goes_home(ros):
    sc = start(ros, escort={'give_up_s': 8.0})
    health = []
    sc.probe.create_subscription(ComponentHealth, '/l2b2/health', health.append, 50)
    target = 'meldestelle'
    vid = sc.spawn_behind(1.0, 'follow', 1.0, towards=sc.first_heading_point(target))
    handle = sc.send(target)
    sc.wait(lambda: travelled(sc, 3.0), 60, 'robot under way')
    sc.set_visitor(vid, 'leave')
    res = sc.result(handle, timeout=120.0)
    assert res.result.outcome == VISITOR_LOST, res.result.message
    sc.wait(lambda: any(h.component == 'escort' and h.level == ComponentHealth.DEGRADED
                        and 'visitor lost' in h.message for h in health), 10, 'staff told')
    sc.wait_home(timeout=120.0)


#: The corridor to the Ausländerbehörde wing runs east from x = 28 m between walls at y = 10.5 and
#: 13.5 m (maps/buergerbuero.floor.yaml); two people standing side by side there close it.
CORRIDOR_BLOCKERS = ((30.5, 11.3), (30.5, 12.7))
CORRIDOR_END = ((38.5, 11.4), (38.5, 12.6))


@pytest.mark.slow
def test_corridor_blocked_by_people_who_then_move(ros):
    # The navigator waits where it stopped (no squeezing past) so that the people have room to walk off.
    sc = start(ros, navigator={'replan_after_blocked_s': 30.0})
    blockers = [sc.spawn_visitor(x, y, 'stop') for x, y in CORRIDOR_BLOCKERS]
    handle = sc.send('auslaenderbehoerde', with_visitor=False)

    def held_up():
        x, y, _ = sc.robot_pose()
        return (math.hypot(x - 30.5, y - 12.0) < 3.0 and sc.probe.odom
                and abs(sc.probe.odom[-1].twist.twist.linear.x) < 0.05)
    sc.wait(held_up, 120, 'robot held up in front of the people in the corridor')
    assert not handle.get_result_async().done()
    for vid, goal in zip(blockers, CORRIDOR_END, strict=True):
        sc.set_visitor(vid, 'wander_off', speed=1.0, goal=goal)
    res = sc.result(handle, timeout=180.0)
    assert res.result.outcome == ARRIVED, res.result.message


@pytest.mark.slow
def test_blocked_target_is_retried_then_reported(ros):
    sc = start(ros, escort={'max_retries': 1, 'retry_delay_s': 1.0},
               navigator={'blocked_timeout_s': 5.0, 'replan_after_blocked_s': 1.0})
    health = []
    sc.probe.create_subscription(ComponentHealth, '/l2b2/health', health.append, 50)
    goal = waypoint('wc')
    sc.spawn_visitor(goal.x, goal.y, 'stop')  # someone stands on the spot the robot must reach
    res = sc.result(sc.send('wc', with_visitor=False), timeout=180.0)
    assert res.result.outcome == NAVIGATION_FAILED, res.result.message
    assert '2 attempts' in res.result.message
    sc.wait(lambda: any(h.component == 'escort' and h.level == ComponentHealth.DEGRADED
                        and 'failed' in h.message for h in health), 10, 'staff told')


@pytest.mark.slow
def test_emergency_stop_mid_escort_and_cancellation(ros):
    sc = start(ros)
    handle = sc.send('meldestelle', with_visitor=False)
    sc.wait(lambda: travelled(sc, 2.0), 60, 'robot under way')
    sc.estop(True)
    res = sc.result(handle, timeout=30.0)
    assert res.result.outcome == Escort.Result.ESTOPPED
    sc.wait(lambda: abs(sc.probe.odom[-1].twist.twist.linear.x) < 0.01, 30, 'robot stands still')
    sc.wait(lambda: sc.probe.status[-1].mode == 'estop' and sc.probe.status[-1].estop_active, 10, 'estop status')
    refused = sc.result(sc.send('wc', with_visitor=False), timeout=30.0)
    assert refused.result.outcome == Escort.Result.ESTOPPED
    sc.estop(False)

    handle = sc.send('meldestelle', with_visitor=False)
    x0, y0, _ = sc.robot_pose()
    sc.wait(lambda: math.dist(sc.robot_pose()[:2], (x0, y0)) > 1.0, 60, 'robot under way again')
    sc.wait_future(handle.cancel_goal_async(), 30, 'cancel response')
    res = sc.result(handle, timeout=30.0)
    assert res.result.outcome == Escort.Result.CANCELED
    sc.wait(lambda: abs(sc.probe.odom[-1].twist.twist.linear.x) < 0.01, 30, 'robot stands still')
    sc.wait(lambda: sc.probe.status[-1].mode == 'idle', 10, 'idle status')

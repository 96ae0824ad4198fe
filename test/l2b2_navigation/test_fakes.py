"""The shared fakes keep their scripted contracts: outcomes, holding, cancelling, counting, vanishing."""
from __future__ import annotations

from action_msgs.msg import GoalStatus
from geometry_msgs.msg import PoseStamped, Twist
from l2b2_interfaces.action import Escort
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionClient

from l2b2_common.codes import EscortOutcome
from l2b2_navigation.fakes import FakeEscort, FakeNavigateToPose


def _send(ros, client, goal):
    ros.wait_for(lambda: client.wait_for_server(timeout_sec=0.1), 20, f'{client._action_name} server')
    handle = ros.wait_future(client.send_goal_async(goal), 10, 'goal response')
    assert handle.accepted
    return handle


def _nav_goal(x, y):
    pose = PoseStamped()
    pose.header.frame_id = 'map'
    pose.pose.position.x, pose.pose.position.y = float(x), float(y)
    return NavigateToPose.Goal(pose=pose)


def test_fake_navigator_drives_to_the_goal_and_refuses_blocked_ones(ros):
    nav = ros.add(FakeNavigateToPose(speed=10.0, blocked=[(3.0, 0.0)], context=ros.context))
    client = ActionClient(ros.node(), NavigateToPose, '/navigate_to_pose')
    res = ros.wait_future(_send(ros, client, _nav_goal(2.0, 0.0)).get_result_async(), 10, 'result')
    assert res.status == GoalStatus.STATUS_SUCCEEDED and (nav.x, nav.y) == (2.0, 0.0)
    res = ros.wait_future(_send(ros, client, _nav_goal(3.0, 0.0)).get_result_async(), 10, 'result')
    assert res.status == GoalStatus.STATUS_ABORTED and res.result.error_code == NavigateToPose.Result.UNKNOWN
    assert nav.goals == [(2.0, 0.0), (3.0, 0.0)] and nav.cancels == 0


def test_fake_navigator_holding_drives_cmd_vel_nav_until_cancelled(ros):
    nav = ros.add(FakeNavigateToPose(speed=None, publish_tf=False, drive_speed=0.3, context=ros.context))
    probe = ros.node()
    drive: list[Twist] = []
    probe.create_subscription(Twist, '/cmd_vel_nav', drive.append, 10)
    handle = _send(ros, ActionClient(probe, NavigateToPose, '/navigate_to_pose'), _nav_goal(5.0, 0.0))
    ros.wait_for(lambda: drive and drive[-1].linear.x == 0.3, 10, 'driving')
    ros.wait_future(handle.cancel_goal_async(), 10, 'cancel response')
    res = ros.wait_future(handle.get_result_async(), 10, 'result')
    assert res.status == GoalStatus.STATUS_CANCELED and nav.cancels == 1 and nav.canceled.is_set()
    ros.wait_for(lambda: drive[-1].linear.x == 0.0, 10, 'stopped')
    assert len(nav.goals) == 1


def test_fake_escort_outcomes_hold_release_and_vanish(ros):
    lost = ros.add(FakeEscort(outcome=EscortOutcome.VISITOR_LOST, context=ros.context))
    client = ActionClient(ros.node(), Escort, '/escort')
    res = ros.wait_future(_send(ros, client, Escort.Goal(target_id='wc')).get_result_async(), 10, 'result')
    assert res.status == GoalStatus.STATUS_ABORTED and res.result.outcome == EscortOutcome.VISITOR_LOST
    assert lost.target_ids == ['wc']
    lost.vanish()
    held = ros.add(FakeEscort(hold=True, name='held_escort', context=ros.context))
    handle = _send(ros, client, Escort.Goal(target_id='meldestelle'))
    ros.wait_for(lambda: held.goals, 10, 'goal at the fake')
    assert not handle.get_result_async().done()
    held.release()
    res = ros.wait_future(handle.get_result_async(), 10, 'released result')
    assert res.status == GoalStatus.STATUS_SUCCEEDED and res.result.outcome == EscortOutcome.ARRIVED


def test_fake_escort_cancel_ends_a_held_goal_at_once(ros):
    escort = ros.add(FakeEscort(hold=True, drive_speed=0.2, context=ros.context))
    probe = ros.node()
    drive: list[Twist] = []
    probe.create_subscription(Twist, '/cmd_vel_nav', drive.append, 10)
    handle = _send(ros, ActionClient(probe, Escort, '/escort'), Escort.Goal(target_id='wc'))
    ros.wait_for(lambda: drive and drive[-1].linear.x == 0.2, 10, 'driving')
    ros.wait_future(handle.cancel_goal_async(), 10, 'cancel response')
    res = ros.wait_future(handle.get_result_async(), 10, 'result')
    assert res.status == GoalStatus.STATUS_CANCELED and res.result.outcome == EscortOutcome.CANCELED
    assert escort.cancels == 1 and escort.canceled.is_set()
    ros.wait_for(lambda: drive[-1].linear.x == 0.0, 10, 'stopped')

"""The sim navigator honours Nav2's NavigateToPose contract, driving the simulated base."""
from __future__ import annotations

import importlib.util
import math
import pathlib

from action_msgs.msg import GoalStatus
from l2b2_interfaces.msg import SafetyState
from l2b2_interfaces.srv import SimSetVisitor, SimSpawnVisitor
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import OccupancyGrid, Path
import pytest
import rclpy

from l2b2_common.qos import LATCHED

_spec = importlib.util.spec_from_file_location('l2b2_sim_test_harness', pathlib.Path(__file__).with_name('sim_harness.py'))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)
Probe, start_navigator, start_sim, waypoints = _harness.Probe, _harness.start_navigator, _harness.start_sim, _harness.waypoints


def test_drives_to_a_target_with_feedback_and_latched_map(ros):
    start_sim(ros)
    start_navigator(ros)
    probe = Probe(ros)
    maps, plans = [], []
    probe.node.create_subscription(OccupancyGrid, '/map', maps.append, LATCHED)
    probe.node.create_subscription(Path, '/plan', plans.append, 10)
    ros.wait_for(lambda: probe.odom is not None, 20.0, 'odometry from the simulator')
    info = waypoints()['info']
    handle = probe.send_goal(info['x'], info['y'], info['yaw'])
    result = probe.result(handle)
    assert result.status == GoalStatus.STATUS_SUCCEEDED
    assert result.result.error_code == NavigateToPose.Result.NONE
    ros.wait_for(lambda: math.dist(probe.position(), (info['x'], info['y'])) < 0.3, 10.0, 'robot at the info desk')
    assert probe.feedback, 'feedback was published'
    first, last = probe.feedback[0].feedback, probe.feedback[-1].feedback
    assert first.distance_remaining > last.distance_remaining
    assert first.current_pose.header.frame_id == 'map'
    assert last.navigation_time.sec + last.navigation_time.nanosec * 1e-9 > 0
    ros.wait_for(lambda: maps and plans, 10.0, 'map and plan')
    assert maps[0].info.resolution == pytest.approx(0.05) and len(maps[0].data) == maps[0].info.width * maps[0].info.height


def test_goal_in_an_obstacle_or_unknown_frame_aborts_with_reason(ros):
    start_sim(ros)
    start_navigator(ros)
    probe = Probe(ros)
    ros.wait_for(lambda: probe.odom is not None, 20.0, 'odometry')
    # The info desk's counter itself (floor plan: infotheke rect [9, 2.5, 12, 3.3]).
    result = probe.result(probe.send_goal(10.5, 2.9), 30.0)
    assert result.status == GoalStatus.STATUS_ABORTED
    assert result.result.error_code == NavigateToPose.Result.UNKNOWN
    assert 'obstacle' in result.result.error_msg
    # The closed storage room east of the Parkausweise has no door: no path.
    result = probe.result(probe.send_goal(37.0, 5.0), 30.0)
    assert result.status == GoalStatus.STATUS_ABORTED
    assert 'no path' in result.result.error_msg
    result = probe.result(probe.send_goal(8.0, 4.0, frame='odom_typo'), 30.0)
    assert result.status == GoalStatus.STATUS_ABORTED
    assert result.result.error_code == NavigateToPose.Result.TF_ERROR


def test_cancel_stops_and_estop_aborts_at_once(ros):
    start_sim(ros)
    start_navigator(ros)
    probe = Probe(ros)
    ros.wait_for(lambda: probe.odom is not None, 20.0, 'odometry')
    target = waypoints()['meldestelle']
    handle = probe.send_goal(target['x'], target['y'])
    ros.wait_for(lambda: len(probe.feedback) > 5, 30.0, 'the robot under way')
    ros.wait_future(handle.cancel_goal_async(), 10.0, 'cancel response')
    result = probe.result(handle, 30.0)
    assert result.status == GoalStatus.STATUS_CANCELED
    ros.wait_for(lambda: abs(probe.odom.twist.twist.linear.x) < 0.01, 20.0, 'robot standing after cancel')

    safety = probe.node.create_publisher(SafetyState, '/safety/state', LATCHED)
    handle = probe.send_goal(target['x'], target['y'])
    ros.wait_for(lambda: probe.odom.twist.twist.linear.x > 0.2, 30.0, 'the robot driving again')
    safety.publish(SafetyState(estop_active=True, estop_source='test'))
    result = probe.result(handle, 30.0)
    assert result.status == GoalStatus.STATUS_ABORTED
    assert 'emergency stop' in result.result.error_msg
    ros.wait_for(lambda: abs(probe.odom.twist.twist.linear.x) < 0.01, 20.0, 'robot standing after the stop')


def test_person_in_the_way_stops_the_robot_until_they_move(ros):
    start_sim(ros)
    # Never replan around the person here: the robot must wait for them.
    start_navigator(ros, replan_after_blocked_s=60.0)
    probe = Probe(ros)
    spawn = probe.node.create_client(SimSpawnVisitor, '/sim/spawn_visitor')
    set_visitor = probe.node.create_client(SimSetVisitor, '/sim/set_visitor')
    ros.wait_for(lambda: probe.odom is not None and spawn.service_is_ready() and set_visitor.service_is_ready(),
                 20.0, 'simulator services')
    # Home is (6, 4) facing south; a goal straight east along y = 4; a person stands at (9, 4).
    reply = ros.wait_future(spawn.call_async(SimSpawnVisitor.Request(x=9.0, y=4.6)), 10.0, 'spawn')
    assert reply.success, reply.message
    handle = probe.send_goal(13.0, 4.6, 0.0)
    ros.wait_for(lambda: probe.feedback and probe.odom.pose.pose.position.x > 7.0
                 and abs(probe.odom.twist.twist.linear.x) < 0.01, 40.0, 'the robot stopped before the person')
    x_stopped = probe.odom.pose.pose.position.x
    # Robot radius 0.4 + visitor radius 0.2 touch at 0.6; it slows down and keeps well clear of stop_distance 0.45.
    gap = (9.0 - x_stopped) - 0.6
    assert gap > 0.3, f'stopped {gap:.2f} m from the person'
    away = SimSetVisitor.Request(id=reply.id, behaviour='wander_off', use_goal=True, goal_x=9.0, goal_y=7.2)
    assert ros.wait_future(set_visitor.call_async(away), 10.0, 'set visitor').success
    result = probe.result(handle, 60.0)
    assert result.status == GoalStatus.STATUS_SUCCEEDED
    ros.wait_for(lambda: probe.odom.pose.pose.position.x > 12.5, 10.0, 'robot at the goal')


def test_ctrl_c_mid_goal_still_ends_the_goal_so_the_process_can_exit(ros):
    """Ctrl-C shuts the ROS context down before the node's close(): the blocked execute thread must end anyway."""
    start_sim(ros)
    navigator = start_navigator(ros)
    probe = Probe(ros)
    ros.wait_for(lambda: probe.odom is not None, 20.0, 'simulator')
    probe.send_goal(13.0, 4.6, 0.0)
    ros.wait_for(lambda: probe.feedback, 30.0, 'the goal under way')
    goal = navigator._goal
    rclpy.shutdown(context=ros.context)  # what the SIGINT handler does first
    navigator.close()
    assert goal.ended.is_set() and goal.outcome[0] == 'aborted'


def test_a_person_who_stays_is_driven_around_and_a_newer_goal_preempts(ros):
    start_sim(ros)
    start_navigator(ros, replan_after_blocked_s=1.0)
    probe = Probe(ros)
    spawn = probe.node.create_client(SimSpawnVisitor, '/sim/spawn_visitor')
    ros.wait_for(lambda: probe.odom is not None and spawn.service_is_ready(), 20.0, 'simulator')
    assert ros.wait_future(spawn.call_async(SimSpawnVisitor.Request(x=9.0, y=4.6)), 10.0, 'spawn').success
    result = probe.result(probe.send_goal(13.0, 4.6, 0.0), 90.0)
    assert result.status == GoalStatus.STATUS_SUCCEEDED
    assert max(f.feedback.number_of_recoveries for f in probe.feedback) >= 1  # replanned around the person
    ros.wait_for(lambda: math.dist(probe.position(), (13.0, 4.6)) < 0.3, 10.0, 'robot at the goal')

    first = probe.send_goal(6.0, 4.0)
    ros.wait_for(lambda: abs(probe.odom.twist.twist.angular.z) > 0.1 or probe.odom.twist.twist.linear.x > 0.1,
                 30.0, 'the robot moving')
    second = probe.send_goal(10.5, 4.5, -math.pi / 2)
    assert probe.result(first, 30.0).status == GoalStatus.STATUS_ABORTED
    assert probe.result(second, 90.0).status == GoalStatus.STATUS_SUCCEEDED

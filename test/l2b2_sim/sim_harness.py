"""Shared by the simulator tests: start the simulator (lockstep, fast) and the navigator on sim time.

``L2B2_RECORD_MCAP=<dir>`` records every simulated test run to ``<dir>/<test>.mcap`` (open it in
Foxglove); without it nothing is stored.
"""
from __future__ import annotations

import math

from geometry_msgs.msg import PoseStamped
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient
from rclpy.parameter import Parameter
import yaml

from l2b2_common.config import share_dir
from l2b2_sim.live_view import recording_path_from_env
from l2b2_sim.navigator_node import SimNavigatorNode
from l2b2_sim.simulator_node import SimulatorNode

#: Fast but repeatable: lockstep with the controller, up to 8x real time.
SIM_PARAMS = {'lockstep': True, 'real_time_factor': 8.0}


def waypoints(name: str = 'buergerbuero') -> dict:
    return yaml.safe_load((share_dir() / 'maps' / f'{name}_waypoints.yaml').read_text())['waypoints']


def start_sim(ros, **params):
    if 'mcap_path' not in params:
        params['mcap_path'] = recording_path_from_env()
    overrides = [Parameter(k, value=v) for k, v in {**SIM_PARAMS, **params}.items()]
    return ros.add(SimulatorNode(context=ros.context, parameter_overrides=overrides))


def start_navigator(ros, **params):
    """The navigator drives /cmd_vel directly here (no safety gate in these tests)."""
    overrides = [Parameter('use_sim_time', value=True)] + [Parameter(k, value=v) for k, v in params.items()]
    return ros.add(SimNavigatorNode(context=ros.context, parameter_overrides=overrides,
                                    cli_args=['--ros-args', '-r', '/cmd_vel_nav:=/cmd_vel']))


class Probe:
    """The test's own node: odometry, the NavigateToPose client, feedback."""

    def __init__(self, ros):
        self.ros = ros
        self.node = ros.node('probe')
        self.odom: Odometry | None = None
        self.feedback: list = []
        self.node.create_subscription(Odometry, '/odom', self._on_odom, 10)
        self.nav = ActionClient(self.node, NavigateToPose, '/navigate_to_pose')

    def _on_odom(self, msg: Odometry) -> None:
        self.odom = msg

    def position(self) -> tuple[float, float]:
        p = self.odom.pose.pose.position
        return p.x, p.y

    def send_goal(self, x: float, y: float, yaw: float = 0.0, frame: str = 'map'):
        self.ros.wait_for(lambda: self.nav.server_is_ready(), 20.0, 'navigate_to_pose server')
        goal = NavigateToPose.Goal(pose=PoseStamped())
        goal.pose.header.frame_id = frame
        goal.pose.pose.position.x, goal.pose.pose.position.y = x, y
        goal.pose.pose.orientation.z, goal.pose.pose.orientation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        handle = self.ros.wait_future(self.nav.send_goal_async(goal, feedback_callback=self.feedback.append),
                                      20.0, 'goal response')
        assert handle.accepted
        return handle

    def result(self, handle, timeout: float = 90.0):
        return self.ros.wait_future(handle.get_result_async(), timeout, 'navigation result')

"""Small real rclpy stand-ins for the parts the panel talks to, for its tests and benchmark.

Each speaks exactly the contract of docs/interfaces.md, nothing more: an escort and a Nav2
``NavigateToPose`` action server that drive while a goal runs, and a base that integrates /cmd_vel
into /odom and /tf. The safety gate in between is always the real one
(l2b2_navigation.safety_gate_node). ``python -m l2b2_panel.stand_ins base|actions`` runs the base, or navigator and
escort, as a process of its own (the benchmark does, so they never share an interpreter with its clock).
"""
from __future__ import annotations

import math
import sys
import threading
from typing import Any

from action_msgs.msg import GoalStatus
from geometry_msgs.msg import TransformStamped, Twist
from l2b2_interfaces.action import Escort
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import Odometry
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from tf2_msgs.msg import TFMessage

from l2b2_common.qos import RELIABLE


class StandInEscort(Node):
    """/escort action server: drives forward on /cmd_vel_nav while a goal runs, until cancelled."""

    def __init__(self, speed: float = 0.3, **kwargs: Any):
        super().__init__('escort_stand_in', **kwargs)
        self.speed = speed
        self.goals: list[str] = []
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._pub = self.create_publisher(Twist, '/cmd_vel_nav', RELIABLE)
        self._cancel = threading.Event()
        self._server = ActionServer(self, Escort, '/escort', self._execute, goal_callback=self._on_goal,
                                    cancel_callback=self._on_cancel, callback_group=ReentrantCallbackGroup())

    def _on_goal(self, goal: Escort.Goal) -> GoalResponse:
        self.goals.append(goal.target_id)
        return GoalResponse.ACCEPT

    def _on_cancel(self, _handle: Any) -> CancelResponse:
        self._cancel.set()  # wakes the drive loop at once
        return CancelResponse.ACCEPT

    def _execute(self, handle: Any) -> Escort.Result:
        self._cancel.clear()
        while handle.status == GoalStatus.STATUS_EXECUTING and not handle.is_cancel_requested:
            twist = Twist()
            twist.linear.x = self.speed
            self._pub.publish(twist)
            handle.publish_feedback(Escort.Feedback(phase='navigating', distance_remaining=5.0))
            self._cancel.wait(0.05)  # 20 Hz like a controller
        self._pub.publish(Twist())
        handle.canceled()
        return Escort.Result(outcome=Escort.Result.CANCELED, message='cancelled')


class StandInNavigator(Node):
    """/navigate_to_pose action server (the Nav2 contract): drives on /cmd_vel_nav while a goal runs.

    A cancel request ends the goal at once (CANCELED), as Nav2's bt_navigator does on a cancel."""

    def __init__(self, speed: float = 0.3, **kwargs: Any):
        super().__init__('navigator_stand_in', **kwargs)
        self.speed = speed
        self.goals = 0
        self._pub = self.create_publisher(Twist, '/cmd_vel_nav', RELIABLE)
        self._cancel = threading.Event()
        self._server = ActionServer(self, NavigateToPose, '/navigate_to_pose', self._execute,
                                    goal_callback=self._on_goal, cancel_callback=self._on_cancel,
                                    callback_group=ReentrantCallbackGroup())

    def _on_goal(self, _goal: NavigateToPose.Goal) -> GoalResponse:
        self.goals += 1
        return GoalResponse.ACCEPT

    def _on_cancel(self, _handle: Any) -> CancelResponse:
        self._cancel.set()
        return CancelResponse.ACCEPT

    def _execute(self, handle: Any) -> NavigateToPose.Result:
        self._cancel.clear()
        while handle.status == GoalStatus.STATUS_EXECUTING and not handle.is_cancel_requested:
            twist = Twist()
            twist.linear.x = self.speed
            self._pub.publish(twist)
            handle.publish_feedback(NavigateToPose.Feedback(distance_remaining=5.0))
            self._cancel.wait(0.05)
        self._pub.publish(Twist())
        handle.canceled()
        return NavigateToPose.Result()


class StandInBase(Node):
    """Integrates /cmd_vel into a pose; publishes /odom and /tf (map→odom→base_link) and /battery."""

    def __init__(self, rate_hz: float = 50.0, start: tuple[float, float, float] = (0.0, 0.0, 0.0), **kwargs: Any):
        super().__init__('base_stand_in', **kwargs)
        self.start = start  # where odom's origin lies on the map
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.x = self.y = self.yaw = 0.0
        self.cmd = Twist()
        self.last_cmd_stamp: float | None = None
        self._dt = 1.0 / rate_hz
        self._pub_odom = self.create_publisher(Odometry, '/odom', RELIABLE)
        self._pub_tf = self.create_publisher(TFMessage, '/tf', RELIABLE)
        self._pub_battery = self.create_publisher(BatteryState, '/battery', RELIABLE)
        self.create_subscription(Twist, '/cmd_vel', self._on_cmd, RELIABLE)
        self.create_timer(self._dt, self._step, clock=self._steady)
        self.create_timer(1.0, self._battery, clock=self._steady)

    def _on_cmd(self, msg: Twist) -> None:
        self.cmd = msg
        self.last_cmd_stamp = self._steady.now().nanoseconds * 1e-9

    def _step(self) -> None:
        v, w = self.cmd.linear.x, self.cmd.angular.z
        self.yaw += w * self._dt
        self.x += v * math.cos(self.yaw) * self._dt
        self.y += v * math.sin(self.yaw) * self._dt
        stamp = self.get_clock().now().to_msg()
        odom = Odometry()
        odom.header.stamp, odom.header.frame_id, odom.child_frame_id = stamp, 'odom', 'base_link'
        odom.pose.pose.position.x, odom.pose.pose.position.y = self.x, self.y
        odom.pose.pose.orientation.z, odom.pose.pose.orientation.w = math.sin(self.yaw / 2), math.cos(self.yaw / 2)
        odom.twist.twist = self.cmd
        self._pub_odom.publish(odom)
        self._pub_tf.publish(TFMessage(transforms=[self._tf(stamp, 'map', 'odom', *self.start),
                                                   self._tf(stamp, 'odom', 'base_link', self.x, self.y, self.yaw)]))

    @staticmethod
    def _tf(stamp: Any, parent: str, child: str, x: float, y: float, yaw: float) -> TransformStamped:
        t = TransformStamped()
        t.header.stamp, t.header.frame_id, t.child_frame_id = stamp, parent, child
        t.transform.translation.x, t.transform.translation.y = x, y
        t.transform.rotation.z, t.transform.rotation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        return t

    def _battery(self) -> None:
        self._pub_battery.publish(BatteryState(percentage=0.87, present=True))


def main(args: list[str] | None = None) -> int:
    """``python -m l2b2_panel.stand_ins base|actions``: the base, or navigator and escort, as a process.

    Two processes, as in the stack: the base's 50 Hz odometry never queues in front of a cancel request.
    The action servers block a thread per running goal, so they spin on a small multi-threaded executor."""
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
    argv = sys.argv[1:] if args is None else list(args)
    which = next((a for a in argv if a in ('base', 'actions')), 'actions')
    with rclpy.init(args=argv):
        if which == 'base':
            parts: list[Node] = [StandInBase()]
            executor = SingleThreadedExecutor()
        else:
            parts = [StandInNavigator(), StandInEscort()]
            executor = MultiThreadedExecutor(num_threads=3)
        for part in parts:
            executor.add_node(part)
        try:
            executor.spin()
        except (KeyboardInterrupt, ExternalShutdownException):
            pass
        finally:
            executor.shutdown(timeout_sec=1.0)
            for part in parts:
                part.destroy_node()
    return 0


if __name__ == '__main__':
    sys.exit(main())

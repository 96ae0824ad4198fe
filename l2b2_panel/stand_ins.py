"""Small real rclpy stand-ins for the parts the panel talks to, for its tests and benchmark.

Each speaks exactly the contract of docs/interfaces.md, nothing more: an escort and a Nav2
``NavigateToPose`` action server that drive while a goal runs (the shared fakes of
``l2b2_navigation.fakes``, set up to drive), and a base that integrates /cmd_vel into /odom and /tf. The safety gate in between is always the real one
(l2b2_navigation.safety_gate_node). ``python -m l2b2_panel.stand_ins base|actions`` runs the base, or navigator and
escort, as a process of its own (the benchmark does, so they never share an interpreter with its clock).
"""
from __future__ import annotations

import math
import sys
from typing import Any

from geometry_msgs.msg import TransformStamped, Twist
from nav_msgs.msg import Odometry
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from tf2_msgs.msg import TFMessage

from l2b2_common.geometry import quaternion_msg_fields
from l2b2_common.lean_node import LeanNode
from l2b2_common.qos import RELIABLE
from l2b2_navigation.fakes import FakeEscort, FakeNavigateToPose


def stand_in_escort(speed: float = 0.3, **kwargs: Any) -> FakeEscort:
    """/escort that drives forward on /cmd_vel_nav while a goal runs, until it is cancelled."""
    return FakeEscort(hold=True, drive_speed=speed, name='escort_stand_in', **kwargs)


def stand_in_navigator(speed: float = 0.3, **kwargs: Any) -> FakeNavigateToPose:
    """/navigate_to_pose that drives on /cmd_vel_nav while a goal runs; a cancel ends the goal at once
    (CANCELED), as Nav2's bt_navigator does. The base stand-in, not the fake, publishes the pose."""
    return FakeNavigateToPose(speed=None, publish_tf=False, drive_speed=speed, name='navigator_stand_in', **kwargs)


class StandInBase(LeanNode):
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
        for k, v in quaternion_msg_fields(self.yaw).items():
            setattr(odom.pose.pose.orientation, k, v)
        odom.twist.twist = self.cmd
        self._pub_odom.publish(odom)
        self._pub_tf.publish(TFMessage(transforms=[self._tf(stamp, 'map', 'odom', *self.start),
                                                   self._tf(stamp, 'odom', 'base_link', self.x, self.y, self.yaw)]))

    @staticmethod
    def _tf(stamp: Any, parent: str, child: str, x: float, y: float, yaw: float) -> TransformStamped:
        t = TransformStamped()
        t.header.stamp, t.header.frame_id, t.child_frame_id = stamp, parent, child
        t.transform.translation.x, t.transform.translation.y = x, y
        for k, v in quaternion_msg_fields(yaw).items():
            setattr(t.transform.rotation, k, v)
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
            parts = [stand_in_navigator(), stand_in_escort()]
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

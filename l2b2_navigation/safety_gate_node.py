"""The only node that publishes /cmd_vel: emergency stop, teleop dead-man and stale-command guard.

Every velocity source (the navigator on /cmd_vel_nav, the staff joystick on /cmd_vel_teleop) goes
through here, so an emergency stop always wins: it zeroes the base at once, tells everyone on the
latched /safety/state (the escort and navigator cancel, the dialogue goes quiet) and silences speech.

Velocities are geometry_msgs/TwistStamped on a real robot (ros2_control's diff_drive_controller and
Nav2 Kilted both use it; /cmd_vel_nav comes from Nav2's collision monitor) or plain Twist (the pybullet
simulator and its stand-in navigator): ``stamped_cmd_vel`` picks the type of /cmd_vel and
/cmd_vel_nav, ``stamped_teleop`` that of /cmd_vel_teleop (the l2b2 panel's joystick sends Twist; a
teleop_twist_joy with publish_stamped_twist sends TwistStamped).
"""
from __future__ import annotations

from dataclasses import dataclass

from geometry_msgs.msg import Twist, TwistStamped
from l2b2_interfaces.msg import SafetyState
from std_msgs.msg import Empty
from std_srvs.srv import SetBool

from l2b2_common.health import OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import LATCHED
from l2b2_common.tunables import declare_tunables, tunable
from l2b2_navigation.safety_gate import GateLimits, SafetyGate

#: The frame of the stamped command: the base's own (what diff_drive_controller expects).
BASE_FRAME = 'base_link'


@dataclass(frozen=True)
class SafetyGateNodeParams:
    """The node's own settings; the limits are :class:`GateLimits`' (declared from that dataclass)."""

    rate_hz: float = tunable(20.0, 'How often the current command is sent to the base (also a heartbeat).',
                             min=5.0, max=200.0)
    start_engaged: bool = tunable(False, 'Start with the emergency stop latched (resume needed before moving).')
    #: The robot's config (config/safety_gate.yaml, read by stack_robot) sets true; the built-in default
    #: stays Twist for bare set-ups (tests, the panel's stand-in base, the pybullet simulation).
    stamped_cmd_vel: bool = tunable(
        False, '/cmd_vel and /cmd_vel_nav carry geometry_msgs/TwistStamped (a real robot: ros2_control, Nav2 '
        'Kilted with enable_stamped_cmd_vel); false: geometry_msgs/Twist (the pybullet simulation).')
    stamped_teleop: bool = tunable(False, '/cmd_vel_teleop carries TwistStamped (false: Twist, as the l2b2 panel sends).')


class SafetyGateNode(LeanNode):
    def __init__(self, **kwargs):
        super().__init__('safety_gate', **kwargs)
        self.params = p = declare_tunables(self, SafetyGateNodeParams)
        self.limits = declare_tunables(self, GateLimits)
        self.gate = SafetyGate(self.limits, engaged=p.start_engaged)
        self._cmd_pub = self.create_publisher(TwistStamped if p.stamped_cmd_vel else Twist, '/cmd_vel', 10)
        self._state_pub = self.create_publisher(SafetyState, '/safety/state', LATCHED)
        self._speech_stop_pub = self.create_publisher(Empty, '/speech/stop', 10)
        self.create_subscription(TwistStamped if p.stamped_cmd_vel else Twist, '/cmd_vel_nav', self._on_nav, 10)
        self.create_subscription(TwistStamped if p.stamped_teleop else Twist, '/cmd_vel_teleop', self._on_teleop, 10)
        self.create_service(SetBool, '/safety/estop', self._on_estop)
        self.create_timer(1.0 / p.rate_hz, self._tick)
        self._teleop_was_active = False
        self.health = HealthReporter(self, 'safety_gate')
        self.health.set(OK, 'emergency stop engaged' if self.gate.estop_active else 'ready')
        self._publish_state()

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_nav(self, msg: Twist | TwistStamped) -> None:
        twist = _twist(msg)
        self.gate.nav(twist.linear.x, twist.angular.z, self._now())

    def _on_teleop(self, msg: Twist | TwistStamped) -> None:
        now = self._now()
        twist = _twist(msg)
        self.gate.teleop(twist.linear.x, twist.angular.z, now)
        self._send(now)  # joystick input reaches the base without waiting for the next tick

    def _on_estop(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        if request.data:
            self.gate.engage('service')
            self._send(self._now())  # zero first, then tell the others
            self._speech_stop_pub.publish(Empty())
            self.get_logger().warning('EMERGENCY STOP engaged')
            self.health.set(OK, 'emergency stop engaged')
            response.message = 'emergency stop engaged'
        else:
            self.gate.release('service')
            self._send(self._now())
            self.get_logger().info('emergency stop released')
            self.health.set(OK, 'ready')
            response.message = 'resumed'
        response.success = True
        self._publish_state()
        return response

    def _tick(self) -> None:
        now = self._now()
        active = self.gate.teleop_active(now)
        if active != self._teleop_was_active:
            self._teleop_was_active = active
            self._publish_state()
        self._send(now)

    def _send(self, now: float) -> None:
        linear, angular = self.gate.command(now)
        if self.params.stamped_cmd_vel:
            msg = TwistStamped()
            msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = BASE_FRAME
            twist = msg.twist
        else:
            msg = twist = Twist()
        twist.linear.x, twist.angular.z = linear, angular
        self._cmd_pub.publish(msg)

    def _publish_state(self) -> None:
        msg = SafetyState(estop_active=self.gate.estop_active, estop_source=self.gate.estop_source,
                          teleop_active=self._teleop_was_active)
        msg.header.stamp = self.get_clock().now().to_msg()
        self._state_pub.publish(msg)


def _twist(msg: Twist | TwistStamped) -> Twist:
    return msg.twist if isinstance(msg, TwistStamped) else msg


def main(args=None):
    return run_node(SafetyGateNode, args)


if __name__ == '__main__':
    raise SystemExit(main())

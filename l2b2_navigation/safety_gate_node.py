"""The only node that publishes /cmd_vel: emergency stop, teleop dead-man and stale-command guard.

Every velocity source (the navigator on /cmd_vel_nav, the staff joystick on /cmd_vel_teleop) goes
through here, so an emergency stop always wins: it zeroes the base at once, tells everyone on the
latched /safety/state (the escort and navigator cancel, the dialogue goes quiet) and silences speech.
"""
from __future__ import annotations

from geometry_msgs.msg import Twist
from l2b2_interfaces.msg import SafetyState
from rclpy.node import Node
from std_msgs.msg import Empty
from std_srvs.srv import SetBool

from l2b2_common.health import OK, HealthReporter
from l2b2_common.node_main import run_node
from l2b2_common.params import Param, declare_params
from l2b2_common.qos import LATCHED
from l2b2_navigation.safety_gate import GateLimits, SafetyGate

PARAMS = (
    Param('rate_hz', 20.0, 'How often the current command is sent to the base (also a heartbeat).',
          min=5.0, max=200.0),
    Param('deadman_timeout_s', 0.3, 'Teleop stops when no joystick command arrived for this long.',
          min=0.05, max=2.0),
    Param('nav_timeout_s', 0.5, 'A navigation command older than this is stale and ignored.', min=0.05, max=5.0),
    Param('max_linear_mps', 0.8, 'Speed limit for navigation commands.', min=0.0, max=2.0),
    Param('teleop_max_linear_mps', 0.5, 'Speed limit for the staff joystick.', min=0.0, max=2.0),
    Param('max_angular_rps', 1.5, 'Turn-rate limit for every command.', min=0.0, max=6.0),
    Param('start_engaged', False, 'Start with the emergency stop latched (resume needed before moving).'),
)


class SafetyGateNode(Node):
    def __init__(self, **kwargs):
        super().__init__('safety_gate', **kwargs)
        self.params = p = declare_params(self, PARAMS)
        self.gate = SafetyGate(GateLimits(
            max_linear=p.max_linear_mps, max_angular=p.max_angular_rps,
            teleop_max_linear=p.teleop_max_linear_mps, deadman_timeout=p.deadman_timeout_s,
            nav_timeout=p.nav_timeout_s), engaged=p.start_engaged)
        self._cmd_pub = self.create_publisher(Twist, '/cmd_vel', 10)
        self._state_pub = self.create_publisher(SafetyState, '/safety/state', LATCHED)
        self._speech_stop_pub = self.create_publisher(Empty, '/speech/stop', 10)
        self.create_subscription(Twist, '/cmd_vel_nav', self._on_nav, 10)
        self.create_subscription(Twist, '/cmd_vel_teleop', self._on_teleop, 10)
        self.create_service(SetBool, '/safety/estop', self._on_estop)
        self.create_timer(1.0 / p.rate_hz, self._tick)
        self._teleop_was_active = False
        self.health = HealthReporter(self, 'safety_gate')
        self.health.set(OK, 'emergency stop engaged' if self.gate.estop_active else 'ready')
        self._publish_state()

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_nav(self, msg: Twist) -> None:
        self.gate.nav(msg.linear.x, msg.angular.z, self._now())

    def _on_teleop(self, msg: Twist) -> None:
        now = self._now()
        self.gate.teleop(msg.linear.x, msg.angular.z, now)
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
        msg = Twist()
        msg.linear.x, msg.angular.z = linear, angular
        self._cmd_pub.publish(msg)

    def _publish_state(self) -> None:
        msg = SafetyState(estop_active=self.gate.estop_active, estop_source=self.gate.estop_source,
                          teleop_active=self._teleop_was_active)
        msg.header.stamp = self.get_clock().now().to_msg()
        self._state_pub.publish(msg)


def main(args=None):
    return run_node(SafetyGateNode, args)


if __name__ == '__main__':
    raise SystemExit(main())

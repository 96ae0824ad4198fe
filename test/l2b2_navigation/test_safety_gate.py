"""The safety gate's rule (pure) and the node on a real ROS graph."""
import dataclasses

from geometry_msgs.msg import Twist, TwistStamped
from l2b2_interfaces.msg import SafetyState
from rclpy.parameter import Parameter
from std_msgs.msg import Empty
from std_srvs.srv import SetBool

from l2b2_common.qos import LATCHED
from l2b2_navigation.safety_gate import ZERO, GateLimits, SafetyGate
from l2b2_navigation.safety_gate_node import SafetyGateNode


def test_navigation_passes_through_within_limits():
    gate = SafetyGate(GateLimits(max_linear_mps=0.8, max_angular_rps=1.5))
    gate.nav(2.0, -3.0, now=10.0)
    assert gate.command(10.1) == (0.8, -1.5)


def test_stale_navigation_command_stops_the_base():
    gate = SafetyGate(GateLimits(nav_timeout_s=0.5))
    gate.nav(0.5, 0.0, now=10.0)
    assert gate.command(10.4) == (0.5, 0.0)
    assert gate.command(10.6) == ZERO


def test_estop_wins_over_everything_and_stays_latched():
    gate = SafetyGate()
    gate.nav(0.5, 0.0, now=1.0)
    gate.teleop(0.3, 0.0, now=1.0)
    assert gate.engage('panel')
    gate.nav(0.5, 0.0, now=1.1)
    gate.teleop(0.3, 0.0, now=1.1)
    assert gate.command(1.1) == ZERO
    assert gate.command(100.0) == ZERO
    assert not gate.engage('again'), 'a second engage changes nothing'


def test_resume_forgets_old_commands():
    gate = SafetyGate()
    gate.nav(0.5, 0.0, now=1.0)
    gate.engage('panel')
    gate.release('panel')
    assert gate.command(1.05) == ZERO, 'nothing moves until a new command arrives'
    gate.nav(0.4, 0.0, now=1.1)
    assert gate.command(1.1) == (0.4, 0.0)


def test_teleop_overrides_navigation_and_dead_man_stops_it():
    gate = SafetyGate(GateLimits(deadman_timeout_s=0.3, teleop_max_linear_mps=0.5))
    gate.nav(0.8, 0.0, now=0.0)
    gate.teleop(1.0, 0.2, now=0.1)
    assert gate.command(0.2) == (0.5, 0.2)
    assert gate.teleop_active(0.35)
    assert gate.command(0.45) == ZERO, 'joystick let go: stop, even though navigation had spoken'
    gate.nav(0.3, 0.0, now=0.5)
    assert gate.command(0.5) == (0.3, 0.0), 'navigation resumes with a fresh command'


def _gate_node(ros, **overrides):
    params = [Parameter(k, value=v) for k, v in overrides.items()]
    return ros.add(SafetyGateNode(context=ros.context, parameter_overrides=params))


def test_node_estop_zeroes_cmd_vel_silences_speech_and_latches_state(ros):
    _gate_node(ros, stamped_cmd_vel=False)
    probe = ros.node()
    cmds, states, stops = [], [], []
    probe.create_subscription(Twist, '/cmd_vel', cmds.append, 10)
    probe.create_subscription(SafetyState, '/safety/state', states.append, LATCHED)
    probe.create_subscription(Empty, '/speech/stop', stops.append, 10)
    nav = probe.create_publisher(Twist, '/cmd_vel_nav', 10)
    estop = probe.create_client(SetBool, '/safety/estop')
    ros.wait_for(lambda: estop.service_is_ready() and nav.get_subscription_count() > 0, what='safety gate')
    ros.wait_for(lambda: states, what='latched initial safety state')
    assert not states[-1].estop_active

    moving = Twist()
    moving.linear.x = 0.4

    def driven():
        nav.publish(moving)
        return any(abs(c.linear.x - 0.4) < 1e-6 for c in cmds)
    ros.wait_for(driven, what='navigation command passed through')

    result = ros.wait_future(estop.call_async(SetBool.Request(data=True)))
    assert result.success
    ros.wait_for(lambda: states[-1].estop_active, what='estop state')
    ros.wait_for(lambda: stops, what='speech stop')
    cmds.clear()
    for _ in range(5):
        nav.publish(moving)
    ros.wait_for(lambda: len(cmds) >= 5, what='commands while stopped')
    assert all(c.linear.x == 0.0 and c.angular.z == 0.0 for c in cmds)

    # A late joiner still learns the stop is engaged (latched).
    late = []
    probe.create_subscription(SafetyState, '/safety/state', late.append, LATCHED)
    ros.wait_for(lambda: late and late[-1].estop_active, what='latched estop for a late subscriber')

    ros.wait_future(estop.call_async(SetBool.Request(data=False)))
    ros.wait_for(lambda: not states[-1].estop_active, what='resume')
    ros.wait_for(driven, what='driving again after a deliberate resume')


def test_node_rejects_out_of_range_parameter_with_its_name(ros):
    import pytest

    from l2b2_common.params import ParameterError
    with pytest.raises(ParameterError, match='deadman_timeout_s'):
        SafetyGateNode(context=ros.context, parameter_overrides=[Parameter('deadman_timeout_s', value=9.0)])


def test_gate_limits_are_the_node_parameters_with_their_ranges():
    """One source: every GateLimits field is a parameter of the node with the same name and default."""
    from l2b2_common.tunables import describe, validated
    from l2b2_navigation.safety_gate_node import SafetyGateNodeParams
    specs = {p.name: p for p in describe(GateLimits)}
    assert set(specs) == {f.name for f in dataclasses.fields(GateLimits)}
    assert not set(specs) & {p.name for p in describe(SafetyGateNodeParams)}
    import yaml

    from l2b2_common.config import config_path
    configured = yaml.safe_load(config_path('safety_gate.yaml').read_text())['safety_gate']['ros__parameters']
    assert set(configured) == set(specs) | {p.name for p in describe(SafetyGateNodeParams)}
    assert validated(GateLimits, **{k: v for k, v in configured.items() if k in specs}) == GateLimits()
    import pytest

    from l2b2_common.tunables import ParameterError
    with pytest.raises(ParameterError, match='nav_timeout_s'):
        validated(GateLimits, nav_timeout_s=10.0)


def test_node_speaks_twist_stamped_on_a_real_robot(ros):
    """stamped_cmd_vel: TwistStamped in from Nav2 (/cmd_vel_nav) and out to the base, stamped in base_link;
    the joystick stays plain Twist unless stamped_teleop says otherwise."""
    gate = _gate_node(ros, stamped_cmd_vel=True)
    probe = ros.node()
    cmds = []
    probe.create_subscription(TwistStamped, '/cmd_vel', cmds.append, 10)
    nav = probe.create_publisher(TwistStamped, '/cmd_vel_nav', 10)
    teleop = probe.create_publisher(Twist, '/cmd_vel_teleop', 10)
    ros.wait_for(lambda: nav.get_subscription_count() > 0 and teleop.get_subscription_count() > 0, what='gate')
    moving = TwistStamped()
    moving.twist.linear.x, moving.twist.angular.z = 0.4, 0.2

    def driven():
        nav.publish(moving)
        return any(abs(c.twist.linear.x - 0.4) < 1e-6 and abs(c.twist.angular.z - 0.2) < 1e-6 for c in cmds)
    ros.wait_for(driven, what='stamped navigation command passed through')
    last = next(c for c in reversed(cmds) if c.twist.linear.x > 0)
    assert last.header.frame_id == 'base_link'
    assert last.header.stamp.sec > 0 or last.header.stamp.nanosec > 0
    joystick = Twist()
    joystick.linear.x = 0.3

    def steered():
        teleop.publish(joystick)
        return any(abs(c.twist.linear.x - 0.3) < 1e-6 for c in cmds)
    ros.wait_for(steered, what='plain joystick Twist reaches the base as TwistStamped')
    assert gate.params.stamped_cmd_vel and not gate.params.stamped_teleop

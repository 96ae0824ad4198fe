"""The simulator node: the robot's topics, visitor services, following visitors, reset, lockstep."""
from __future__ import annotations

import importlib.util
import math
import pathlib

from geometry_msgs.msg import Twist, Vector3
from l2b2_interfaces.msg import TrackedPeople
from l2b2_interfaces.srv import SimSetVisitor, SimSpawnVisitor
import pytest
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState, LaserScan
from std_srvs.srv import Trigger
from tf2_msgs.msg import TFMessage

from l2b2_common.params import ParameterError
from l2b2_sim.simulator_node import SimulatorNode

_spec = importlib.util.spec_from_file_location('l2b2_sim_test_harness',
                                               pathlib.Path(__file__).with_name('sim_harness.py'))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)


def test_publishes_the_robot_interfaces_and_visitors_follow_the_robot(ros):
    _harness.start_sim(ros)
    probe = _harness.Probe(ros)
    node = probe.node
    seen: dict[str, list] = {'scan': [], 'truth': [], 'tf': [], 'clock': [], 'battery': []}
    node.create_subscription(LaserScan, '/scan', seen['scan'].append, 10)
    node.create_subscription(TrackedPeople, '/sim/visitors', seen['truth'].append, 10)
    node.create_subscription(TFMessage, '/tf', seen['tf'].append, 10)
    node.create_subscription(Clock, '/clock', seen['clock'].append, 10)
    node.create_subscription(BatteryState, '/battery', seen['battery'].append, 10)
    spawn = node.create_client(SimSpawnVisitor, '/sim/spawn_visitor')
    set_visitor = node.create_client(SimSetVisitor, '/sim/set_visitor')
    reset = node.create_client(Trigger, '/sim/reset')
    ros.wait_for(lambda: all(seen.values()) and probe.odom is not None, 20.0, 'every simulator topic')
    scan = seen['scan'][-1]
    assert scan.header.frame_id == 'laser' and len(scan.ranges) == 360
    frames = {(t.header.frame_id, t.child_frame_id) for t in seen['tf'][-1].transforms}
    assert frames == {('map', 'odom'), ('odom', 'base_link'), ('base_link', 'laser')}

    # A visitor right behind the robot (home (6, 4) faces south), told to follow.
    ros.wait_for(lambda: spawn.service_is_ready() and set_visitor.service_is_ready(), 10.0, 'sim services')
    reply = ros.wait_future(spawn.call_async(SimSpawnVisitor.Request(x=6.0, y=5.1, behaviour='follow')), 10.0, 'spawn')
    assert reply.success, reply.message
    bad = ros.wait_future(set_visitor.call_async(SimSetVisitor.Request(id=reply.id, behaviour='dance')), 10.0, 'set')
    assert not bad.success and 'unknown behaviour' in bad.message
    in_wall = ros.wait_future(spawn.call_async(SimSpawnVisitor.Request(x=10.5, y=2.9)), 10.0, 'spawn in a desk')
    assert not in_wall.success

    # Drive east for a while with /cmd_vel (as the safety gate would): turn left first.
    cmd = node.create_publisher(Twist, '/cmd_vel', 10)
    drive = {'v': 0.0}

    def yaw() -> float:
        q = probe.odom.pose.pose.orientation
        return 2 * math.atan2(q.z, q.w)

    def steer_east() -> None:
        # Closed loop on the heading, so a late check on a loaded machine cannot overshoot into a desk.
        heading = math.atan2(math.sin(yaw()), math.cos(yaw()))
        cmd.publish(Twist(linear=_harness_vec(drive['v']), angular=_harness_vec(0.0, 0.0, max(-1.0, min(1.0, -2.0 * heading)))))
    node.create_timer(0.05, steer_east)

    ros.wait_for(lambda: abs(yaw()) < 0.1, 30.0, 'the robot turned east')
    drive.update(v=0.6)
    ros.wait_for(lambda: probe.odom.pose.pose.position.x > 9.5, 60.0, 'the robot 3.5 m further east')
    drive.update(v=0.0)

    def visitor():
        people = seen['truth'][-1].people
        return people[0] if people else None

    ros.wait_for(lambda: visitor() is not None and visitor().position.x > 7.5, 30.0, 'the visitor following')
    robot_x = probe.odom.pose.pose.position.x
    gap = math.hypot(robot_x - visitor().position.x, probe.odom.pose.pose.position.y - visitor().position.y)
    assert 0.7 < gap < 3.0
    # The lidar sees the follower behind the robot (beam index 0 looks backwards).
    back = [r for r in seen['scan'][-1].ranges[:6] + seen['scan'][-1].ranges[-6:] if math.isfinite(r)]
    assert back and min(back) < 3.0

    result = ros.wait_future(reset.call_async(Trigger.Request()), 10.0, 'reset')
    assert result.success
    ros.wait_for(lambda: math.dist(probe.position(), (6.0, 4.0)) < 0.05 and not seen['truth'][-1].people,
                 10.0, 'robot home, no visitors')


def test_lockstep_waits_for_the_controller(ros):
    """Commands every 0.1 s of wall time at full speed: the sim never runs ahead of the last command."""
    sim = _harness.start_sim(ros, real_time_factor=0.0, lockstep_timeout_s=5.0, lockstep_idle_s=5.0)
    node = ros.node('controller')
    cmd = node.create_publisher(Twist, '/cmd_vel', 10)
    ahead, first = [], []

    def tick():
        if sim._last_cmd_time > 0:  # commands arrive (after discovery): how far is the sim past the last one?
            first.append(first[0] if first else sim.world.time)
            ahead.append(sim.world.time - sim._last_cmd_time)
        cmd.publish(Twist())

    node.create_timer(0.1, tick)
    ros.wait_for(lambda: len(ahead) >= 20, 30.0, '20 commands')
    assert max(ahead) <= 0.1 + 0.02 + 1e-6, ahead
    # 20+ commands 0.1 s apart: about 2 s of sim time; free-running at rtf 0 would be minutes ahead.
    assert sim.world.time - first[0] < (len(ahead) + 2) * 0.12


def _harness_vec(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> Vector3:
    return Vector3(x=float(x), y=float(y), z=float(z))


def test_bad_world_is_a_clear_parameter_error(ros):
    with pytest.raises(ParameterError, match='world'):
        SimulatorNode(context=ros.context, parameter_overrides=[Parameter('world', value='no_such_building')])

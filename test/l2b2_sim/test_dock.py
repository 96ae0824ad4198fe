"""The simulated docking server: Nav2's DockRobot/UndockRobot on the pybullet robot, charging on the dock.

The real simulator, sim navigator, safety gate and docking server on sim time (lockstep, fast); the
test sends the actions as the office node does.
"""
from __future__ import annotations

import importlib.util
import math
import pathlib

from action_msgs.msg import GoalStatus
from l2b2_interfaces.srv import SimSpawnVisitor
from nav2_msgs.action import DockRobot, UndockRobot
import pytest
from rclpy.action import ActionClient
from rclpy.parameter import Parameter
from sensor_msgs.msg import BatteryState

from l2b2_common.building import building_files, buildings
from l2b2_common.config import share_dir
from l2b2_common.geometry import Pose2D
from l2b2_common.maps import OccupancyMap, load_waypoints
from l2b2_navigation.safety_gate_node import SafetyGateNode
from l2b2_sim.dock_node import DOCK_OFFSET_M, SimDockServer, dock_geometry, straight_step
from l2b2_sim.planner import Costmap, CostParams

_spec = importlib.util.spec_from_file_location('l2b2_sim_test_harness',
                                               pathlib.Path(__file__).with_name('sim_harness.py'))
_harness = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_harness)

CHARGING = BatteryState.POWER_SUPPLY_STATUS_CHARGING
DISCHARGING = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING


# --- pure parts ---------------------------------------------------------------------------------------

def test_every_building_has_a_free_dock_behind_home():
    """No building has a ``ladestation`` waypoint yet: the dock is 1.1 m behind home, backed onto the charger."""
    assert buildings(), 'no building in maps/'
    for name in buildings():
        files = building_files(name)
        places = load_waypoints(files.waypoints)
        geo = dock_geometry(places)
        home = places['home']
        assert (geo.staging.x, geo.staging.y) == (home.x, home.y) or 'ladestation' in places
        assert math.dist((geo.dock.x, geo.dock.y), (geo.staging.x, geo.staging.y)) == pytest.approx(DOCK_OFFSET_M)
        costmap = Costmap(OccupancyMap.from_yaml(files.map_yaml), CostParams())
        for what, pose in (('dock', geo.dock), ('staging pose', geo.staging)):
            assert costmap.is_free(pose.x, pose.y), f'{name}: the {what} ({pose.x:.2f}, {pose.y:.2f}) is not free'


def test_a_dock_waypoint_wins_over_home():
    geo = dock_geometry({'home': {'x': 0.0, 'y': 0.0}, 'ladestation': {'x': 2.0, 'y': 1.0, 'yaw': math.pi / 2}},
                        offset_m=1.0)
    assert (geo.dock.x, geo.dock.y) == (2.0, 1.0)
    assert (round(geo.staging.x, 6), round(geo.staging.y, 6)) == (2.0, 2.0)


def test_the_straight_approach_backs_onto_the_dock_from_a_sloppy_staging_pose():
    """Kinematic check of the controller: 0.1 m off the line and 0.2 rad turned, it still docks within 3 cm."""
    dock = Pose2D(0.0, 0.0, 0.0)
    x, y, yaw, dt = 1.1, 0.1, 0.2, 0.05
    for _ in range(2000):
        step = straight_step(Pose2D(x, y, yaw), dock, forward=False, speed=0.15)
        if step.arrived:
            break
        x, y, yaw = x + step.v * math.cos(yaw) * dt, y + step.v * math.sin(yaw) * dt, yaw + step.w * dt
    assert step.arrived
    assert abs(step.lateral) < 0.03 and abs(step.heading) < 0.1


# --- the simulation ------------------------------------------------------------------------------------

class Dock:
    """Simulator, navigator (through the safety gate), docking server and the test's clients."""

    def __init__(self, ros, battery_initial_percent: float = 50.0, **dock_params):
        _harness.start_sim(ros, battery_initial_percent=battery_initial_percent)
        sim_time = Parameter('use_sim_time', value=True)
        from l2b2_sim.navigator_node import SimNavigatorNode
        ros.add(SimNavigatorNode(context=ros.context, parameter_overrides=[sim_time]))
        ros.add(SafetyGateNode(context=ros.context, parameter_overrides=[sim_time,
                                                                         Parameter('stamped_cmd_vel', value=False)]))
        self.server = ros.add(SimDockServer(context=ros.context, parameter_overrides=[sim_time] + [
            Parameter(k, value=v) for k, v in dock_params.items()]))
        self.ros = ros
        self.probe = _harness.Probe(ros)
        node = self.probe.node
        self.battery: list[BatteryState] = []
        node.create_subscription(BatteryState, '/battery', self.battery.append, 10)
        self.dock = ActionClient(node, DockRobot, '/dock_robot')
        self.undock = ActionClient(node, UndockRobot, '/undock_robot')
        self.spawn = node.create_client(SimSpawnVisitor, '/sim/spawn_visitor')
        ros.wait_for(lambda: self.dock.server_is_ready() and self.undock.server_is_ready(), 20.0, 'docking server')
        ros.wait_for(lambda: self.probe.odom is not None and self.battery, 20.0, '/odom and /battery')

    def call(self, client, goal, timeout: float = 120.0):
        handle = self.ros.wait_future(client.send_goal_async(goal), 20.0, 'goal response')
        assert handle.accepted
        return self.ros.wait_future(handle.get_result_async(), timeout, 'docking result').result

    def distance_to(self, pose: Pose2D) -> float:
        x, y = self.probe.position()
        return math.hypot(x - pose.x, y - pose.y)


def test_docking_from_home_charges_and_undocking_leaves_the_dock(ros):
    d = Dock(ros)
    geo = d.server.geometry
    assert d.battery[-1].power_supply_status == DISCHARGING  # home is the staging pose, not the dock
    res = d.call(d.dock, DockRobot.Goal(use_dock_id=True, dock_id='ladestation', navigate_to_staging_pose=True))
    assert res.success, res.error_msg
    assert res.error_code == DockRobot.Result.NONE
    assert d.distance_to(geo.dock) < 0.06
    charging = d.ros.wait_for(lambda: d.battery[-1].power_supply_status == CHARGING and d.battery[-1], 20.0,
                              'the battery charging on the dock')
    assert charging.location == 'dock'
    d.ros.wait_for(lambda: d.battery[-1].percentage > charging.percentage + 1e-4, 30.0, 'the charge rising')

    res = d.call(d.undock, UndockRobot.Goal(max_undocking_time=30.0))
    assert res.success, res.error_msg
    assert d.distance_to(geo.staging) < 0.1
    d.ros.wait_for(lambda: d.battery[-1].power_supply_status == DISCHARGING, 20.0, 'discharging off the dock')


def test_a_blocked_dock_or_an_unknown_one_fails_with_nav2s_error_codes(ros):
    d = Dock(ros, approach_timeout_s=4.0)
    unknown = d.call(d.dock, DockRobot.Goal(use_dock_id=True, dock_id='keller'))
    assert not unknown.success and unknown.error_code == DockRobot.Result.DOCK_NOT_IN_DB
    # A visitor stands between the robot (at home, the staging pose) and the charger.
    d.ros.wait_for(d.spawn.service_is_ready, 10.0, 'spawn service')
    dock = d.server.geometry.dock
    reply = d.ros.wait_future(d.spawn.call_async(SimSpawnVisitor.Request(x=dock.x, y=dock.y + 0.1)), 10.0, 'spawn')
    assert reply.success, reply.message
    res = d.call(d.dock, DockRobot.Goal(use_dock_id=True, dock_id='ladestation', navigate_to_staging_pose=False))
    assert not res.success
    assert res.error_code == DockRobot.Result.FAILED_TO_CONTROL
    assert 'in the way' in res.error_msg
    assert d.distance_to(d.server.geometry.staging) < 0.3  # it waited instead of pushing
    assert d.battery[-1].power_supply_status == DISCHARGING


def test_a_visitor_on_the_staging_pose_fails_the_docking_with_failed_to_stage(ros):
    d = Dock(ros)
    away = d.probe.send_goal(8.5, 3.0, yaw=math.pi / 2)
    assert d.probe.result(away).status == GoalStatus.STATUS_SUCCEEDED
    d.ros.wait_for(d.spawn.service_is_ready, 10.0, 'spawn service')
    staging = d.server.geometry.staging
    reply = d.ros.wait_future(d.spawn.call_async(SimSpawnVisitor.Request(x=staging.x, y=staging.y)), 10.0, 'spawn')
    assert reply.success, reply.message
    res = d.call(d.dock, DockRobot.Goal(use_dock_id=True, dock_id='ladestation', max_staging_time=20.0,
                                        navigate_to_staging_pose=True))
    assert not res.success
    assert res.error_code == DockRobot.Result.FAILED_TO_STAGE, res.error_msg
    assert d.distance_to(staging) > 0.5


def test_the_office_node_docks_before_opening_and_goes_out_at_opening(ros, tmp_path):
    """End to end on sim time: the robot starts at home (off the dock) a minute before opening; breaks up to
    half a minute are spent out (config/office.yaml says 30 minutes: too long a wait at sim speed)."""
    from l2b2_interfaces.msg import OfficeStatus

    from l2b2_common.qos import LATCHED
    from l2b2_office.office_node import OfficeNode

    d = Dock(ros, battery_initial_percent=70.0)
    statuses: list[OfficeStatus] = []
    d.probe.node.create_subscription(OfficeStatus, '/office/status', statuses.append, LATCHED)
    config = tmp_path / 'office.yaml'
    config.write_text((share_dir() / 'config' / 'office.yaml').read_text(encoding='utf-8').replace(
        'stay_out_gap_minutes: 30.0', 'stay_out_gap_minutes: 0.5'), encoding='utf-8')
    params = {'use_sim_time': True, 'clock': 'sim', 'sim_day_start': '2026-12-07T07:29:00',  # opens at sim 60 s
              'office_config': str(config)}
    ros.add(OfficeNode(context=ros.context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()]))

    def status(**expected):
        return lambda: statuses and all(getattr(statuses[-1], k) == v for k, v in expected.items()) and statuses[-1]

    ros.wait_for(status(phase='before_opening', docked=True, charging=True), 60.0, 'docked before opening')
    assert d.distance_to(d.server.geometry.dock) < 0.06
    s = ros.wait_for(status(phase='open', docked=False, accepting_escorts=True), 60.0, 'out at opening')
    assert s.charging is False
    assert d.distance_to(d.server.geometry.staging) < 0.3

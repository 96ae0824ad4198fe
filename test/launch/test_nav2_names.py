"""Every Nav2 name we write (parameters, plugin classes, behaviour-tree nodes and ports) exists in Nav2
Kilted: compared with data/nav2_kilted.yaml, which extract_nav2_kilted.py read from Kilted's sources."""
from __future__ import annotations

import math
from pathlib import Path
import xml.etree.ElementTree as ET

import pytest
import yaml

from l2b2_bringup.launch_plan import BEHAVIOR_TREE, DOCK_ID, DOCK_PLUGIN, LOCALISATION, NAVIGATION, nav2_plan
from l2b2_common.config import REPO_ROOT

KILTED = yaml.safe_load((Path(__file__).parent / 'data' / 'nav2_kilted.yaml').read_text())
PARAMS = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
#: Which packages declare each node's parameters (nav2_util: stamped velocities, lifecycle, plugins).
PACKAGES = {
    'amcl': ['nav2_amcl'],
    'bt_navigator': ['nav2_bt_navigator', 'nav2_behavior_tree'],
    'controller_server': ['nav2_controller', 'nav2_regulated_pure_pursuit_controller'],
    'local_costmap': ['nav2_costmap_2d'],
    'global_costmap': ['nav2_costmap_2d'],
    'map_server': ['nav2_map_server'],
    'planner_server': ['nav2_planner', 'nav2_navfn_planner'],
    'smoother_server': ['nav2_smoother'],
    'behavior_server': ['nav2_behaviors'],
    'velocity_smoother': ['nav2_velocity_smoother'],
    'collision_monitor': ['nav2_collision_monitor'],
    'docking_server': ['opennav_docking'],
}
#: BehaviorTree.CPP v4's own nodes we use (registered in its bt_factory.cpp; they have no ports).
BTCPP_BUILTINS = {'Sequence', 'Fallback', 'ReactiveFallback', 'ReactiveSequence'}
#: Values Kilted's collision monitor accepts (collision_monitor_node.cpp, polygon.cpp).
POLYGON_TYPES = {'polygon', 'circle', 'velocity_polygon'}
ACTION_TYPES = {'stop', 'slowdown', 'limit', 'approach'}
SOURCE_TYPES = {'scan', 'pointcloud', 'range', 'polygon'}


def _leaves(tree: dict, path: str = ''):
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, f'{path}.{key}' if path else key)
        else:
            yield f'{path}.{key}' if path else key, key, value


def _node_params(node: str) -> dict:
    section = PARAMS[node]
    return section[node]['ros__parameters'] if node in ('local_costmap', 'global_costmap') else section['ros__parameters']


def test_the_params_file_configures_exactly_the_servers_we_start():
    started = {p.name for p in nav2_plan() if p.executable != 'lifecycle_manager'}
    assert started == set(LOCALISATION) | set(NAVIGATION)
    configured = set(PARAMS) - {'local_costmap', 'global_costmap'}
    assert configured == started
    assert set(PACKAGES) == set(PARAMS)


@pytest.mark.parametrize('node', sorted(PACKAGES))
def test_every_parameter_we_set_exists_in_kilted(node):
    known = {'use_sim_time'}
    for package in [*PACKAGES[node], 'nav2_util']:
        known.update(KILTED['parameters'][package])
    unknown = [path for path, key, _value in _leaves(_node_params(node)) if key not in known]
    assert unknown == [], f'{node}: not a Nav2 Kilted parameter: {unknown}'


def test_removed_and_renamed_parameters_are_gone():
    """action_server_result_timeout went in Kilted; max_points became min_points; the docking server's
    dock_backwards is deprecated for the dock plugin's dock_direction."""
    everything = {key for node in PACKAGES for _p, key, _v in _leaves(_node_params(node))}
    all_kilted = {name for names in KILTED['parameters'].values() for name in names}
    assert 'action_server_result_timeout' not in all_kilted and 'action_server_result_timeout' not in everything
    assert 'max_points' not in everything
    assert 'dock_backwards' not in everything and 'dock_direction' in KILTED['parameters']['opennav_docking']


def test_every_plugin_class_we_name_exists_in_kilted():
    exported = {cls for classes in KILTED['plugins'].values() for cls in classes}
    # Navigators and behaviours are exported through templates the extractor reads as their class names.
    named = [value for node in PACKAGES for _p, key, value in _leaves(_node_params(node)) if key == 'plugin']
    assert named and [n for n in named if n not in exported] == []


def test_velocity_topics_and_zones_of_the_collision_monitor():
    cm = PARAMS['collision_monitor']['ros__parameters']
    assert cm['cmd_vel_out_topic'] == '/cmd_vel_nav' and cm['cmd_vel_in_topic'] == 'cmd_vel_smoothed'
    actions = set()
    for name in cm['polygons']:
        zone = cm[name]
        assert zone['type'] in POLYGON_TYPES and zone['action_type'] in ACTION_TYPES
        points = yaml.safe_load(zone['points'])
        assert len(points) >= 3 and all(len(p) == 2 for p in points)
        actions.add(zone['action_type'])
    assert actions == {'stop', 'slowdown'}
    assert all(cm[source]['type'] in SOURCE_TYPES for source in cm['observation_sources'])


def test_our_behaviour_tree_uses_kilted_nodes_and_ports_and_never_spins_or_backs_up():
    root = ET.parse(REPO_ROOT / BEHAVIOR_TREE).getroot()
    assert root.get('BTCPP_format') == '4'
    used = set()
    for element in root.iter():
        if element.tag in ('root', 'BehaviorTree'):
            continue
        used.add(element.tag)
        if element.tag in BTCPP_BUILTINS:
            assert set(element.attrib) <= {'name'}, element.tag
            continue
        assert element.tag in KILTED['bt_nodes'], f'{element.tag} is not a Nav2 Kilted behaviour-tree node'
        ports = set(KILTED['bt_nodes'][element.tag]) | {'name'}
        assert set(element.attrib) <= ports, f'{element.tag}: unknown ports {set(element.attrib) - ports}'
    assert not used & {'Spin', 'BackUp', 'DriveOnHeading', 'AssistedTeleop'}
    assert {'Wait', 'ComputePathToPose', 'FollowPath', 'RecoveryNode'} <= used
    # Only waiting is even loaded in the behaviour server.
    assert PARAMS['behavior_server']['ros__parameters']['behavior_plugins'] == ['wait']
    # The planner and controller ids the tree names are the servers' plugins.
    ids = {e.get('planner_id') for e in root.iter('ComputePathToPose')} | {e.get('controller_id')
                                                                         for e in root.iter('FollowPath')}
    assert ids <= set(PARAMS['planner_server']['ros__parameters']['planner_plugins']) | set(
        PARAMS['controller_server']['ros__parameters']['controller_plugins'])


def test_the_stand_in_navigator_does_what_nav2_does_with_people_in_the_way():
    """The sim navigator's blocked-way rule (l2b2_sim.way_guard.GuardParams) and Nav2's configuration agree:
    stop zone, wait before re-planning, and when to give up."""
    from l2b2_sim.way_guard import GuardParams
    guard = GuardParams()
    radius = PARAMS['local_costmap']['local_costmap']['ros__parameters']['robot_radius']
    cm = PARAMS['collision_monitor']['ros__parameters']
    stop = yaml.safe_load(cm['PolygonStop']['points'])
    assert max(x for x, _y in stop) == pytest.approx(radius + guard.stop_distance)
    assert max(abs(y) for _x, y in stop) == pytest.approx(radius)
    root = ET.parse(REPO_ROOT / BEHAVIOR_TREE).getroot()
    wait = float(next(root.iter('Wait')).get('wait_duration'))
    assert wait == guard.replan_after_blocked_s
    rounds = int(root.find('BehaviorTree/RecoveryNode').get('number_of_retries'))
    assert rounds * wait == pytest.approx(guard.blocked_timeout_s)


def _docking_server() -> dict:
    """The docking server's parameters as started: the file, then the launch plan's dicts (the dock database)."""
    plan = next(p for p in nav2_plan() if p.name == 'docking_server')
    params = dict(_node_params('docking_server'))
    for extra in plan.parameters[1:]:
        params.update(extra)
    return params


def test_the_dock_database_the_launch_file_writes_uses_kilted_names():
    """docks, <dock>.type/.pose/.frame (opennav_docking utils.hpp parseDockParams) name our one plugin."""
    params = _docking_server()
    known = set(KILTED['parameters']['opennav_docking'])
    database = {key: value for key, value in params.items() if key == 'docks' or key.startswith(f'{DOCK_ID}.')}
    assert set(database) == {'docks', f'{DOCK_ID}.type', f'{DOCK_ID}.pose', f'{DOCK_ID}.frame'}
    assert all(key.split('.')[-1] in known for key in database)
    assert params['docks'] == [DOCK_ID] and params['dock_plugins'] == [DOCK_PLUGIN]
    assert params[f'{DOCK_ID}.type'] == DOCK_PLUGIN and len(params[f'{DOCK_ID}.pose']) == 3
    # The office node docks at this dock; its empty dock_type picks the one plugin.
    office = yaml.safe_load((REPO_ROOT / 'config' / 'office_node.yaml').read_text())['office']['ros__parameters']
    assert office['dock_id'] == DOCK_ID and office['dock_type'] == ''


def test_nav2_docks_where_and_as_the_simulation_does():
    """Backwards onto the charger, Nav2's staging pose on the simulation's, the sim's approach speed and
    tolerance, frames as the rest of Nav2's, the charger's state from /battery."""
    from l2b2_common.building import building_files
    from l2b2_common.dock import DOCK_OFFSET_M, dock_geometry
    from l2b2_common.geometry import Pose2D, wrap_angle
    from l2b2_common.maps import load_waypoints
    from l2b2_sim.dock_node import SimDockParams
    params = _docking_server()
    dock = params[DOCK_PLUGIN]
    assert dock['plugin'] == 'opennav_docking::SimpleChargingDock'
    assert dock['dock_direction'] == 'backward' and dock['rotate_to_dock'] is False
    # Nav2 (simple_charging_dock.cpp getStagingPose): staging = dock pose + staging_x_offset along its yaw,
    # turned by staging_yaw_offset. Ours: 1.1 m ahead of the robot on the dock, with its heading.
    geo = dock_geometry(load_waypoints(building_files().waypoints))  # nav2_plan()'s default building
    x, y, yaw = params[f'{DOCK_ID}.pose']
    nav2_staging = Pose2D(x + math.cos(yaw) * dock['staging_x_offset'], y + math.sin(yaw) * dock['staging_x_offset'],
                          wrap_angle(yaw + dock['staging_yaw_offset']))
    assert nav2_staging.x == pytest.approx(geo.staging.x) and nav2_staging.y == pytest.approx(geo.staging.y)
    assert wrap_angle(nav2_staging.yaw - geo.staging.yaw) == pytest.approx(0.0, abs=1e-9)
    assert (x, y) == (geo.dock.x, geo.dock.y) and wrap_angle(yaw - geo.dock.yaw) == pytest.approx(math.pi)
    assert -dock['staging_x_offset'] == DOCK_OFFSET_M == SimDockParams().dock_offset_m
    sim = SimDockParams()
    assert params['controller']['v_linear_max'] == sim.approach_speed
    assert dock['docking_threshold'] == sim.docking_tolerance_m
    assert params['dock_approach_timeout'] == sim.approach_timeout_s
    # The charger's state: /battery (the plan remaps Kilted's battery_state), not a guess from the pose.
    assert dock['use_battery_status'] is True and dock['use_stall_detection'] is False
    plan = next(p for p in nav2_plan() if p.name == 'docking_server')
    assert dict(plan.remappings)['battery_state'] == '/battery'
    # Frames as the rest of Nav2's: the robot's base, a smooth odometry frame for the approach (the local
    # costmap's, whose costmap and footprint the approach checks for collisions).
    local = PARAMS['local_costmap']['local_costmap']['ros__parameters']
    assert params['base_frame'] == local['robot_base_frame'] == PARAMS['amcl']['ros__parameters']['base_frame_id']
    assert params['fixed_frame'] == local['global_frame'] == PARAMS['collision_monitor']['ros__parameters'][
        'odom_frame_id']
    assert params['controller']['costmap_topic'] == 'local_costmap/costmap_raw'
    # The approach is not checked for collisions only once the robot's radius nearly touches the charger:
    # Nav2's target lies 0.25 m past the dock pose (docking_server.cpp approachDock).
    radius = local['robot_radius']
    assert 0.25 < params['controller']['dock_collision_threshold'] <= 0.25 + radius

"""The Gazebo/Nav2 assets for machines that have them: valid SDF, no misspelt elements, launch files
that parse and point at existing files, and the same robot/footprint everywhere."""
from __future__ import annotations

import ast
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import xacro
import yaml

from l2b2_common.config import REPO_ROOT
from l2b2_sim.sdf_check import sdformat_check, sdformat_print, unknown_elements

WORLDS = sorted((REPO_ROOT / 'sim' / 'worlds').glob('*.sdf'))
LAUNCH_FILES = sorted([*(REPO_ROOT / 'sim' / 'launch').glob('*.launch.py'), *(REPO_ROOT / 'launch').glob('*.launch.py')])
#: Files the launch files take from other packages (ros_gz_sim).
EXTERNAL = {'gz_sim.launch.py'}


@pytest.fixture(scope='module')
def robot_urdf(tmp_path_factory):
    path = tmp_path_factory.mktemp('robot') / 'l2b2.urdf'
    path.write_text(xacro.process_file(str(REPO_ROOT / 'sim' / 'urdf' / 'l2b2.urdf.xacro')).toxml())
    return path


@pytest.mark.parametrize('world', WORLDS, ids=lambda p: p.stem)
def test_worlds_are_valid_sdf_without_unknown_elements(world):
    assert len(WORLDS) >= 2
    valid, output = sdformat_check(world)
    assert valid, output
    assert unknown_elements(world.read_text()) == []


def test_robot_is_valid_and_its_gazebo_plugins_are_spelt_right(robot_urdf, tmp_path):
    valid, output = sdformat_check(robot_urdf)
    assert valid, output
    sdf = sdformat_print(robot_urdf)
    assert 'gz-sim-diff-drive-system' in sdf and 'gpu_lidar' in sdf
    assert unknown_elements(sdf) == []
    # What sdformat lets through, our check does not.
    typo = tmp_path / 'typo.urdf'
    typo.write_text(robot_urdf.read_text().replace('odom_topic>', 'odom_topik>').replace('<samples>', '<sample>')
                    .replace('</samples>', '</sample>'))
    assert sdformat_check(typo)[0]
    problems = unknown_elements(sdformat_print(typo))
    assert any('odom_topik' in p for p in problems) and any('/sample:' in p for p in problems)


@pytest.mark.parametrize('launch_file', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_files_parse_and_reference_existing_files(launch_file):
    tree = ast.parse(launch_file.read_text(), filename=str(launch_file))
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert 'generate_launch_description' in functions
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for s in strings:  # every file the launch file names literally exists
        if re.fullmatch(r'[A-Za-z][\w.-]*\.(launch\.py|yaml|xacro)', s) and s not in EXTERNAL:
            candidates = [REPO_ROOT / d / s for d in ('launch', 'sim/launch', 'sim/gazebo', 'config', 'sim/urdf')]
            assert any(c.exists() for c in candidates), f'{launch_file.name}: {s} not found'


def test_no_nav2_velocity_reaches_the_wheels_past_the_safety_gate():
    """Every Nav2 server that publishes cmd_vel is remapped off /cmd_vel; only the gate drives the wheels.
    (test/launch/test_launch_files.py runs the launch files themselves.)"""
    from l2b2_bringup.launch_plan import nav2_plan
    plans = {p.name: p for p in nav2_plan()}
    velocity_publishers = {'controller_server', 'behavior_server', 'velocity_smoother', 'docking_server'}  # Nav2 Kilted
    for name in velocity_publishers:
        assert dict(plans[name].remappings).get('cmd_vel') == 'cmd_vel_nav_raw', name
    nav2 = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
    assert nav2['collision_monitor']['ros__parameters']['cmd_vel_out_topic'] == '/cmd_vel_nav'
    gate = (REPO_ROOT / 'l2b2_navigation' / 'safety_gate_node.py').read_text()
    assert "'/cmd_vel_nav', self._on_nav" in gate and "'/cmd_vel', 10)" in gate
    # The robot starts this Nav2 on the wall clock, not nav2_bringup's (which publishes on /cmd_vel).
    robot = (REPO_ROOT / 'launch' / 'l2b2_robot.launch.py').read_text()
    assert "'nav2.launch.py'" in robot and "'use_sim_time': 'false'" in robot and 'nav2_bringup' not in robot.split('"""')[2]


def test_bridge_and_nav2_params_match_the_contract_and_the_robot():
    bridge = yaml.safe_load((REPO_ROOT / 'sim' / 'gazebo' / 'ros_gz_bridge.yaml').read_text())
    topics = {e['ros_topic_name']: e for e in bridge}
    interfaces = (REPO_ROOT / 'docs' / 'interfaces.md').read_text()
    for name in ('/clock', '/cmd_vel', '/odom', '/tf', '/scan'):
        assert name in topics and f'`{name}`' in interfaces
    assert topics['/cmd_vel']['direction'] == 'ROS_TO_GZ'
    assert topics['/cmd_vel']['ros_type_name'] == 'geometry_msgs/msg/TwistStamped'  # as the gate beside Nav2
    assert all(e['direction'] in ('GZ_TO_ROS', 'ROS_TO_GZ', 'BIDIRECTIONAL') for e in bridge)

    urdf = xacro.process_file(str(REPO_ROOT / 'sim' / 'urdf' / 'l2b2.urdf.xacro')).toxml()
    base_radius = float(re.search(r'<link name="base_body">.*?radius="([\d.]+)"', urdf, re.S).group(1))
    nav2 = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
    sim_nav = yaml.safe_load((REPO_ROOT / 'config' / 'sim_navigator.yaml').read_text())['sim_navigator']['ros__parameters']
    for costmap in ('local_costmap', 'global_costmap'):
        p = nav2[costmap][costmap]['ros__parameters']
        assert p['robot_radius'] == base_radius == sim_nav['robot_radius']
        assert p['plugins'][-1] == 'inflation_layer'
        assert p['inflation_layer']['inflation_radius'] == sim_nav['inflation_radius']
    rpp = nav2['controller_server']['ros__parameters']['FollowPath']
    assert rpp['desired_linear_vel'] == sim_nav['max_linear_speed']
    checker = nav2['controller_server']['ros__parameters']['general_goal_checker']
    assert checker['xy_goal_tolerance'] == sim_nav['xy_goal_tolerance']
    assert nav2['velocity_smoother']['ros__parameters']['max_velocity'][0] == sim_nav['max_linear_speed']


def _obstacle_sources(nav2: dict):
    """Every observation source of every obstacle layer of both costmaps: (where, its parameters)."""
    for costmap in ('local_costmap', 'global_costmap'):
        p = nav2[costmap][costmap]['ros__parameters']
        for layer in p['plugins']:
            if p[layer]['plugin'] in ('nav2_costmap_2d::ObstacleLayer', 'nav2_costmap_2d::VoxelLayer'):
                for source in p[layer]['observation_sources'].split():
                    yield f'{costmap}.{layer}.{source}', p[layer][source]


def test_every_line_of_the_sim_navigator_config_equals_nav2s():
    """config/sim_navigator.yaml says its lines are those that must equal config/nav2_params.yaml: each one is
    compared here (a new line without its Nav2 counterpart fails), inf_is_valid among them."""
    nav2 = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
    sim_nav = yaml.safe_load((REPO_ROOT / 'config' / 'sim_navigator.yaml').read_text())['sim_navigator']['ros__parameters']
    local = nav2['local_costmap']['local_costmap']['ros__parameters']
    controller = nav2['controller_server']['ros__parameters']
    sources = dict(_obstacle_sources(nav2))
    assert set(sources) == {'local_costmap.obstacle_layer.scan', 'global_costmap.obstacle_layer.scan'}
    counterpart = {
        'robot_radius': [local['robot_radius']],
        'inflation_radius': [local['inflation_layer']['inflation_radius']],
        'cost_scaling_factor': [nav2[c][c]['ros__parameters']['inflation_layer']['cost_scaling_factor']
                                for c in ('local_costmap', 'global_costmap')],
        'max_linear_speed': [controller['FollowPath']['desired_linear_vel'],
                             nav2['velocity_smoother']['ros__parameters']['max_velocity'][0]],
        'max_angular_speed': [controller['FollowPath']['rotate_to_heading_angular_vel'],
                              nav2['velocity_smoother']['ros__parameters']['max_velocity'][2]],
        'xy_goal_tolerance': [controller['general_goal_checker']['xy_goal_tolerance']],
        'yaw_goal_tolerance': [controller['general_goal_checker']['yaw_goal_tolerance']],
        'inf_is_valid': [source['inf_is_valid'] for source in sources.values()],
    }
    assert set(sim_nav) - {'use_sim_time'} == set(counterpart)
    for name, values in counterpart.items():
        assert values and all(v == sim_nav[name] for v in values), (name, sim_nav[name], values)
    assert sim_nav['inf_is_valid'] is True


def test_no_return_clears_and_is_never_marked(robot_urdf):
    """Issue 18 item 6: both costmaps clear on ``inf`` (inf_is_valid: true). Nav2 turns an inf reading into
    range_max - 0.1 mm (obstacle_layer.cpp laserScanValidInfCallback), so the lidar's range_max must lie
    beyond obstacle_max_range, or every beam with no return would mark a ring of phantom obstacles;
    raytracing must reach at least as far as marking, or a mark could never be cleared."""
    from l2b2_sim.lidar import LidarSpec
    nav2 = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
    root = ET.fromstring(robot_urdf.read_text())
    gazebo_range_max = float(root.find(".//gazebo[@reference='laser']/sensor/lidar/range/max").text)
    for where, source in _obstacle_sources(nav2):
        assert source['inf_is_valid'] is True and source['data_type'] == 'LaserScan', where
        assert source['clearing'] is True and source['marking'] is True, where
        assert source['raytrace_max_range'] >= source['obstacle_max_range'], where
        for range_max in (gazebo_range_max, LidarSpec().range_max):  # Gazebo's and the pybullet simulator's
            assert range_max > source['obstacle_max_range'], where


def _frames(root) -> dict[str, np.ndarray]:
    """Each link's pose in base_link (4x4), every joint at zero."""
    parent_of = {j.find('child').get('link'): j for j in root.findall('joint')}
    poses: dict[str, np.ndarray] = {'base_link': np.eye(4)}

    def pose(link: str) -> np.ndarray:
        if link not in poses:
            joint = parent_of[link]
            poses[link] = pose(joint.find('parent').get('link')) @ _origin(joint.find('origin'))
        return poses[link]
    for link in root.findall('link'):
        pose(link.get('name'))
    return poses


def _origin(element) -> np.ndarray:
    xyz = [float(v) for v in (element.get('xyz', '0 0 0') if element is not None else '0 0 0').split()]
    r, p, y = [float(v) for v in (element.get('rpy', '0 0 0') if element is not None else '0 0 0').split()]
    rx = np.array([[1, 0, 0], [0, math.cos(r), -math.sin(r)], [0, math.sin(r), math.cos(r)]])
    ry = np.array([[math.cos(p), 0, math.sin(p)], [0, 1, 0], [-math.sin(p), 0, math.cos(p)]])
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rz @ ry @ rx, xyz
    return m


def _inside(geometry, points: np.ndarray) -> np.ndarray:
    shape = geometry[0]
    if shape.tag == 'cylinder':
        r, h = float(shape.get('radius')), float(shape.get('length'))
        return (np.hypot(points[:, 0], points[:, 1]) <= r) & (np.abs(points[:, 2]) <= h / 2)
    if shape.tag == 'box':
        half = np.array([float(v) for v in shape.get('size').split()]) / 2
        return np.all(np.abs(points) <= half, axis=1)
    if shape.tag == 'sphere':
        return np.linalg.norm(points, axis=1) <= float(shape.get('radius'))
    raise AssertionError(f'unexpected collision geometry {shape.tag}')


def blocked_beams(urdf: str, laser_z: float | None = None, reach: float = 1.0) -> list[float]:
    """Angles (deg) of the lidar beams that start inside, or pass through, the robot's own collision shapes
    within ``reach`` metres; the sensor's samples and angles are the URDF's."""
    root = ET.fromstring(urdf)
    frames = _frames(root)
    laser = frames['laser'].copy()
    if laser_z is not None:
        laser[2, 3] = laser_z
    scan = root.find(".//gazebo[@reference='laser']/sensor/lidar/scan/horizontal")
    samples = int(scan.find('samples').text)
    lo, hi = float(scan.find('min_angle').text), float(scan.find('max_angle').text)
    r = np.arange(0.0, reach, 0.005)
    blocked = []
    for angle in np.linspace(lo, hi, samples, endpoint=False):
        local = np.stack([r * math.cos(angle), r * math.sin(angle), np.zeros_like(r), np.ones_like(r)])
        points = laser @ local
        for link in root.findall('link'):
            for collision in link.findall('collision'):
                to_shape = np.linalg.inv(frames[link.get('name')] @ _origin(collision.find('origin')))
                if _inside(collision.find('geometry'), (to_shape @ points)[:3].T).any():
                    blocked.append(round(math.degrees(angle), 1))
                    break
            else:
                continue
            break
    return blocked


def test_the_lidar_sees_all_round_past_the_robots_own_body(robot_urdf):
    """Every beam starts outside the robot's collision shapes and leaves the robot unblocked."""
    urdf = robot_urdf.read_text()
    assert blocked_beams(urdf) == []
    # The check finds a blocked beam: a lidar mounted inside the base body sees nothing.
    assert len(blocked_beams(urdf, laser_z=0.2)) == 360


def test_casters_are_frictionless_in_gazebo_and_the_wheels_are_not(robot_urdf):
    sdf = ET.fromstring(sdformat_print(robot_urdf))
    friction = {c.get('name'): c.find('surface/friction/ode') for c in sdf.iter('collision')}
    casters = [name for name in friction if 'caster' in name]
    assert len(casters) == 2
    for name in casters:
        assert float(friction[name].find('mu').text) == 0.0 and float(friction[name].find('mu2').text) == 0.0
    for name, ode in friction.items():
        if 'wheel' in name:
            assert ode is None or float(ode.find('mu').text) > 0.5, name

"""The Gazebo/Nav2 assets for machines that have them: valid SDF, no misspelt elements, launch files
that parse and point at existing files, and the same robot/footprint everywhere."""
from __future__ import annotations

import ast
import re

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
    """Every Nav2 server that publishes cmd_vel is remapped off /cmd_vel; only the gate drives the wheels."""
    source = (REPO_ROOT / 'launch' / 'nav2.launch.py').read_text()
    servers = {}
    for call in ast.walk(ast.parse(source)):
        if isinstance(call, ast.Call) and getattr(call.func, 'id', '') == 'nav2':
            args = [ast.literal_eval(a) for a in call.args]
            servers[args[2]] = dict(args[3]) if len(args) > 3 else {}
    velocity_publishers = {'controller_server', 'behavior_server', 'velocity_smoother'}  # Nav2 Kilted
    assert velocity_publishers <= set(servers)
    for name in velocity_publishers:
        assert servers[name].get('cmd_vel') == 'cmd_vel_nav_raw', name
    assert servers['velocity_smoother']['cmd_vel_smoothed'] == '/cmd_vel_nav'
    gate = (REPO_ROOT / 'l2b2_navigation' / 'safety_gate_node.py').read_text()
    assert "create_subscription(Twist, '/cmd_vel_nav'" in gate and "create_publisher(Twist, '/cmd_vel'" in gate
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

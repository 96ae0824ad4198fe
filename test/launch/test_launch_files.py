"""Every launch file evaluated as ``ros2 launch`` would, through launch/launch_ros stand-ins with the
upstream signatures (launch_stubs.py): what starts, with which parameters, in which building."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from l2b2_bringup.launch_plan import DOCK_ID, LOCALISATION, NAVIGATION, nav2_plan, stack_plan
from l2b2_bringup.stack import BUILDING_PARAMETERS, load_stack
from l2b2_common.building import building_files, buildings
from l2b2_common.config import REPO_ROOT, ConfigError
from l2b2_common.dock import dock_geometry, nav2_dock_pose
from l2b2_common.maps import load_waypoints

from .launch_stubs import effective, expand

LAUNCH_FILES = sorted([*(REPO_ROOT / 'launch').glob('*.launch.py'), *(REPO_ROOT / 'sim' / 'launch').glob('*.launch.py')])
#: Packages other than ours a launch file may start nodes from (all exec_depends in package.xml).
OTHER_PACKAGES = {'nav2_map_server', 'nav2_amcl', 'nav2_controller', 'nav2_smoother', 'nav2_planner', 'nav2_behaviors',
                  'nav2_velocity_smoother', 'nav2_collision_monitor', 'nav2_bt_navigator', 'nav2_lifecycle_manager',
                  'opennav_docking', 'robot_state_publisher', 'ros_gz_sim', 'ros_gz_bridge'}


def _console_scripts() -> set[str]:
    """Every console script setup.py installs (the node table and the tool table)."""
    tree = ast.parse((REPO_ROOT / 'setup.py').read_text())
    return {k.value for n in tree.body if isinstance(n, ast.Assign) and isinstance(n.value, ast.Dict)
            for k in n.value.keys if isinstance(k, ast.Constant) and str(k.value).startswith('l2b2-')}


@pytest.mark.parametrize('launch_file', LAUNCH_FILES, ids=lambda p: p.name)
def test_launch_file_starts_existing_executables_with_existing_files(launch_file):
    started = expand(launch_file)
    scripts = _console_scripts()
    names = [n.node_name for n in started.nodes]
    assert names and len(names) == len(set(names)), names
    for node in started.nodes:
        assert node.package == 'l2b2' and node.executable in scripts or node.package in OTHER_PACKAGES, node.executable
        for item in node.parameters:
            assert isinstance(item, dict) or Path(item).is_file(), f'{node.node_name}: {item}'
        assert node.namespace == '/', 'a namespace makes launch_ros write dict parameters under the node name'
        # Only the safety gate publishes /cmd_vel: nothing is remapped onto it.
        assert all(dst.lstrip('/') != 'cmd_vel' for _src, dst in node.remappings), node.node_name
    for proc in started.processes:
        assert Path(proc.cmd[0]).is_absolute(), 'a colcon install has no l2b2 scripts on PATH'
        assert proc.respawn and proc.additional_env.get('L2B2_MODE'), 'the stack env and restart reach processes'


def _building_consumers(started, building: str) -> None:
    files = building_files(building)
    places = load_waypoints(files.waypoints)
    home = places['home']
    dock = nav2_dock_pose(dock_geometry(places))
    for node in started.nodes:
        wanted = BUILDING_PARAMETERS.get(node.executable, {}) if node.package == 'l2b2' else {}
        params = effective(node)
        for name, kind in wanted.items():
            assert params[name] == str(getattr(files, kind)), (node.node_name, name)
        if node.node_name == 'map_server':
            assert params['yaml_filename'] == str(files.map_yaml)
        if node.node_name == 'amcl':
            assert params['set_initial_pose'] is True
            assert (params['initial_pose']['x'], params['initial_pose']['y']) == (home.x, home.y)
            assert params['initial_pose']['yaw'] == home.yaw
        if node.package == 'opennav_docking':  # Nav2's dock database: the building's one dock
            assert params['docks'] == [DOCK_ID] and params[f'{DOCK_ID}.frame'] == 'map'
            assert params[f'{DOCK_ID}.pose'] == [dock.x, dock.y, dock.yaw]
    consumers = {n.executable for n in started.nodes} & set(BUILDING_PARAMETERS)
    assert 'l2b2-escort' in consumers and 'l2b2-panel' in consumers


@pytest.mark.parametrize('building', ['rathaus_nord', 'buergerbuero'])
def test_one_building_setting_selects_map_waypoints_world_and_panel_map_everywhere(building):
    """ros2 launch on the robot, in Gazebo and in the pybullet sim, and l2b2-launch: the same building's files."""
    assert set(buildings()) >= {'buergerbuero', 'rathaus_nord'}
    files = building_files(building)
    robot = expand(REPO_ROOT / 'launch' / 'l2b2_robot.launch.py', {'building': building})
    _building_consumers(robot, building)
    assert {'map_server', 'amcl', 'docking_server', 'escort', 'panel', 'office'} <= {n.node_name for n in robot.nodes}

    gazebo = expand(REPO_ROOT / 'sim' / 'launch' / 'l2b2_gazebo.launch.py', {'building': building})
    _building_consumers(gazebo, building)
    (gz_launch, gz_args), = gazebo.external
    assert gz_launch.endswith('ros_gz_sim/launch/gz_sim.launch.py') and set(gz_args) <= {
        'gz_args', 'on_exit_shutdown', 'gz_version', 'debugger', 'ign_args', 'ign_version'}  # ros_gz_sim's args
    assert gz_args['gz_args'].endswith(str(files.world_sdf))
    spawn = gazebo.node('spawn_l2b2').arguments
    home = load_waypoints(files.waypoints)['home']
    assert float(spawn[spawn.index('-x') + 1]) == home.x and float(spawn[spawn.index('-y') + 1]) == home.y
    assert not {'simulator', 'sim_navigator'} & {n.node_name for n in gazebo.nodes}, 'Gazebo and Nav2 replace them'

    sim = expand(REPO_ROOT / 'launch' / 'l2b2_sim.launch.py', {'building': building})
    _building_consumers(sim, building)
    assert effective(sim.node('simulator'))['world'] == str(files.world_json)
    assert effective(sim.node('sim_navigator'))['map'] == str(files.map_yaml)


def test_l2b2_launch_passes_the_building_to_every_consumer(tmp_path):
    """l2b2-launch --building: the overrides file each consumer is started with names the building's files."""
    stack = load_stack('stack_sim.yaml', building='rathaus_nord')
    files = building_files('rathaus_nord')
    assert stack.building == 'rathaus_nord'
    seen = set()
    for spec in stack.nodes:
        wanted = BUILDING_PARAMETERS.get(spec.executable)
        if not wanted:
            continue
        cmd = spec.command(params_dir=tmp_path)
        last = yaml.safe_load(Path(cmd[len(cmd) - 1 - cmd[::-1].index('--params-file') + 1]).read_text())
        params = last[f'/{spec.name}']['ros__parameters']
        assert {k: params[k] for k in wanted} == {k: str(getattr(files, kind)) for k, kind in wanted.items()}
        seen.add(spec.executable)
    assert seen == set(BUILDING_PARAMETERS), 'the sim stack has every consumer'
    # The stack file's own setting, and the default.
    path = tmp_path / 'stack.yaml'
    path.write_text('stack: t\nbuilding: rathaus_nord\nnodes: [{name: escort, executable: l2b2-escort}]\n')
    assert dict(load_stack(path).node('escort').parameters)['waypoints_file'] == str(files.waypoints)
    assert load_stack('stack_robot.yaml').building == 'buergerbuero'


def test_building_errors_name_the_setting_and_the_buildings(tmp_path):
    with pytest.raises(ConfigError, match='unknown building "nowhere".*known: buergerbuero, rathaus_nord'):
        building_files('nowhere')
    with pytest.raises(ConfigError, match='not a building name'):
        building_files('../maps/buergerbuero')
    path = tmp_path / 'stack.yaml'
    path.write_text('stack: t\nbuilding: atlantis\nnodes: [{name: escort, executable: l2b2-escort}]\n')
    with pytest.raises(ConfigError) as err:
        load_stack(path)
    assert err.value.key == 'building' and str(path) in str(err.value)
    path.write_text('stack: t\nnodes: [{name: escort, executable: l2b2-escort, parameters: {waypoints_file: x}}]\n')
    with pytest.raises(ConfigError, match='use the top-level "building"'):
        load_stack(path)
    # A building without a simulated world runs on the robot, not in the simulator.
    share = tmp_path / 'share'
    (share / 'maps').mkdir(parents=True)
    for name in ('lab.yaml', 'lab_waypoints.yaml'):
        (share / 'maps' / name).write_text('x: 1\n')
    with pytest.raises(ConfigError, match='building "lab" has no world sdf'):
        building_files('lab', share=share).require('world_sdf')


def test_nav2_launch_defaults_to_the_wall_clock_and_manages_every_server():
    nav2 = expand(REPO_ROOT / 'launch' / 'nav2.launch.py')
    assert all(effective(n).get('use_sim_time') is False for n in nav2.nodes)
    servers = {n.node_name for n in nav2.nodes if n.executable != 'lifecycle_manager'}
    assert servers == set(LOCALISATION) | set(NAVIGATION)
    managed = [name for n in nav2.nodes if n.executable == 'lifecycle_manager' for name in effective(n)['node_names']]
    assert sorted(managed) == sorted(servers)
    gazebo = expand(REPO_ROOT / 'sim' / 'launch' / 'l2b2_gazebo.launch.py')
    assert effective(gazebo.node('bt_navigator'))['use_sim_time'] is True
    bt_xml = Path(effective(nav2.node('bt_navigator'))['default_nav_to_pose_bt_xml'])
    assert bt_xml.is_file() and bt_xml.suffix == '.xml'


def test_every_nav2_velocity_passes_the_collision_monitor_and_the_safety_gate():
    """controller/behaviours -> smoother -> collision monitor -> /cmd_vel_nav -> safety gate -> /cmd_vel."""
    plans = {p.name: p for p in nav2_plan()}
    params = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
    for name in ('controller_server', 'behavior_server', 'docking_server'):  # Nav2 Kilted's cmd_vel publishers
        assert dict(plans[name].remappings)['cmd_vel'] == 'cmd_vel_nav_raw'
    smoother = dict(plans['velocity_smoother'].remappings)
    assert smoother == {'/tf': 'tf', '/tf_static': 'tf_static', 'cmd_vel': 'cmd_vel_nav_raw',
                        'cmd_vel_smoothed': 'cmd_vel_smoothed'}
    monitor = params['collision_monitor']['ros__parameters']
    assert monitor['cmd_vel_in_topic'] == 'cmd_vel_smoothed' and monitor['cmd_vel_out_topic'] == '/cmd_vel_nav'


def test_velocities_are_stamped_on_the_robot_and_in_gazebo_and_plain_in_the_pybullet_sim():
    nav2 = yaml.safe_load((REPO_ROOT / 'config' / 'nav2_params.yaml').read_text())
    for node in ('controller_server', 'behavior_server', 'velocity_smoother', 'collision_monitor', 'docking_server'):
        assert nav2[node]['ros__parameters']['enable_stamped_cmd_vel'] is True, node
    robot = expand(REPO_ROOT / 'launch' / 'l2b2_robot.launch.py')
    assert effective(robot.node('safety_gate'))['stamped_cmd_vel'] is True
    gazebo = expand(REPO_ROOT / 'sim' / 'launch' / 'l2b2_gazebo.launch.py')
    assert effective(gazebo.node('safety_gate'))['stamped_cmd_vel'] is True
    bridge = yaml.safe_load((REPO_ROOT / 'sim' / 'gazebo' / 'ros_gz_bridge.yaml').read_text())
    cmd = next(e for e in bridge if e['ros_topic_name'] == '/cmd_vel')
    assert (cmd['ros_type_name'], cmd['gz_type_name']) == ('geometry_msgs/msg/TwistStamped', 'gz.msgs.Twist')
    # The pybullet simulator and the stand-in navigator speak Twist: the sim stack says so for the gate.
    sim = expand(REPO_ROOT / 'launch' / 'l2b2_sim.launch.py')
    assert effective(sim.node('safety_gate'))['stamped_cmd_vel'] is False
    _stack, plans = stack_plan('stack_sim.yaml')
    assert effective_plan(plans, 'safety_gate')['stamped_cmd_vel'] is False


def effective_plan(plans, name):
    plan = next(p for p in plans if p.name == name)

    class _N:
        node_name, parameters = plan.name, plan.parameters
    return effective(_N)


def test_package_xml_declares_what_the_launch_files_start_and_import():
    """rosdep installs exec_depends: every package a launch file starts nodes from or imports is one."""
    import xml.etree.ElementTree as ET
    depends = {e.text for e in ET.parse(REPO_ROOT / 'package.xml').getroot().iter('exec_depend')}
    started = {n.package for f in LAUNCH_FILES for n in expand(f).nodes} - {'l2b2'}
    assert started <= depends and OTHER_PACKAGES <= depends
    assert {'launch', 'launch_ros', 'xacro', 'ament_index_python', 'nav2_regulated_pure_pursuit_controller',
            'nav2_navfn_planner', 'nav2_costmap_2d'} <= depends


def test_the_dock_moves_with_the_building_and_the_office_node_docks_there():
    """The robot launch: Nav2's docking server knows the building's dock, the office node (wall clock) asks
    for that dock, and the charger's state reaches the docking server from /battery."""
    poses = {}
    for building in ('buergerbuero', 'rathaus_nord'):
        robot = expand(REPO_ROOT / 'launch' / 'l2b2_robot.launch.py', {'building': building})
        server = robot.node('docking_server')
        assert (server.package, server.executable) == ('opennav_docking', 'opennav_docking')
        assert dict(server.remappings)['battery_state'] == '/battery'
        poses[building] = effective(server)[f'{DOCK_ID}.pose']
        office = effective(robot.node('office'))
        assert office['clock'] == 'wall' and not office.get('use_sim_time')
        assert office['dock_id'] == DOCK_ID and office['dock_type'] == ''  # '' = the one dock plugin
        assert office['waypoints_file'] == str(building_files(building).waypoints)
    assert poses['buergerbuero'] != poses['rathaus_nord']
    # One docking server on the robot: Nav2's. The simulated one (l2b2-sim-dock) never runs there.
    assert 'l2b2-sim-dock' not in {n.executable for n in load_stack('stack_robot.yaml').nodes}
    # Bring-up docks by hand first (docs/real_robot.md): the robot launch without the working day.
    by_hand = expand(REPO_ROOT / 'launch' / 'l2b2_robot.launch.py', {'exclude': 'office'})
    assert 'office' not in {n.node_name for n in by_hand.nodes} and by_hand.node('docking_server')

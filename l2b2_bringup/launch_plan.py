"""What the launch files start, as plain data: the one code path behind launch/ and sim/launch/.

``ros2 launch`` is not installable on this platform, so the launch files are thin: each asks this
module what to start (package, executable, name, parameters, remappings) and wraps the answer in
launch_ros ``Node`` / launch ``ExecuteProcess`` actions. The building setting, the stack file and
the Nav2 velocity chain are decided here, in plain Python the tests import and check without
launch installed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
from typing import Any

from l2b2_bringup.stack import Stack, load_stack
from l2b2_common.building import BuildingFiles, building_files
from l2b2_common.config import share_dir
from l2b2_common.dock import dock_geometry, nav2_dock_pose
from l2b2_common.maps import load_waypoints

#: Nav2 servers under each lifecycle manager (nav2_bringup's split): localisation, then navigation.
LOCALISATION = ('map_server', 'amcl')
NAVIGATION = ('controller_server', 'smoother_server', 'planner_server', 'behavior_server', 'velocity_smoother',
              'collision_monitor', 'bt_navigator', 'docking_server')
#: The one dock in Nav2's dock database (the office node's dock_id) and its plugin (nav2_params.yaml dock_plugins).
DOCK_ID, DOCK_PLUGIN = 'ladestation', 'simple_charging_dock'
#: Our behaviour tree for a public office (wait for the way to clear, re-plan, never spin or back up).
BEHAVIOR_TREE = 'config/behavior_trees/navigate_public_office.xml'
#: /tf and /tf_static as nav2_bringup remaps them (a namespaced robot keeps the global tree).
TF_REMAPS = (('/tf', 'tf'), ('/tf_static', 'tf_static'))


@dataclass(frozen=True)
class NodePlan:
    """One launch_ros ``Node`` (``ros``) or one plain process (``cmd``) and everything it is started with."""

    name: str
    executable: str
    package: str = 'l2b2'
    #: Parameter files (paths) and dicts, in order: a later one wins.
    parameters: tuple[Any, ...] = ()
    remappings: tuple[tuple[str, str], ...] = ()
    arguments: tuple[str, ...] = ()
    #: '/' when none: launch_ros then writes dict parameters under the node's own name, so they beat
    #: the files (with no namespace they go under ``/**``, which a file's ``escort:`` entry outranks).
    namespace: str = '/'
    env: dict[str, str] = field(default_factory=dict)
    respawn: bool = False
    ros: bool = True
    #: Plain processes: the whole command line (executable resolved).
    cmd: tuple[str, ...] = ()

    def node_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``launch_ros.actions.Node`` (launch_ros Kilted / rolling signature)."""
        kwargs: dict[str, Any] = {'package': self.package, 'executable': self.executable, 'name': self.name,
                                  'namespace': self.namespace, 'output': 'screen',
                                  'parameters': [str(p) if isinstance(p, Path) else p for p in self.parameters],
                                  'remappings': list(self.remappings)}
        if self.arguments:
            kwargs['arguments'] = list(self.arguments)
        if self.env:
            kwargs['additional_env'] = dict(self.env)
        if self.respawn:
            kwargs.update(respawn=True, respawn_delay=2.0)
        return kwargs

    def process_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``launch.actions.ExecuteProcess``."""
        kwargs: dict[str, Any] = {'cmd': list(self.cmd), 'name': self.name, 'output': 'screen'}
        if self.env:
            kwargs['additional_env'] = dict(self.env)
        if self.respawn:
            kwargs.update(respawn=True, respawn_delay=2.0)
        return kwargs


def script_dir() -> Path | None:
    """Where a colcon install puts the console scripts (lib/l2b2, not on PATH); None in a venv."""
    try:
        from ament_index_python.packages import get_package_prefix
        lib = Path(get_package_prefix('l2b2')) / 'lib' / 'l2b2'
    except Exception:  # noqa: BLE001 - not installed with colcon: resolve beside the interpreter
        return None
    return lib if lib.is_dir() else None


def csv(text: str) -> tuple[str, ...]:
    """A launch argument holding a comma-separated list."""
    return tuple(part.strip() for part in text.split(',') if part.strip())


def flag(text: str) -> bool | None:
    """A launch argument holding true/false, or '' for "as configured"."""
    text = text.strip().lower()
    if not text:
        return None
    if text not in ('true', 'false'):
        raise ValueError(f'expected true or false, got {text!r}')
    return text == 'true'


def stack_plan(stack_file: str, building: str = '', *, exclude: tuple[str, ...] = (),
               stamped_cmd_vel: bool | None = None, bin_dir: Path | None = None) -> tuple[Stack, list[NodePlan]]:
    """The nodes of a stack description (config/stack_*.yaml), as l2b2_stack.launch.py starts them.

    The same loader as ``l2b2-launch``: building overrides, inline parameters (which win over the
    files), remappings, the stack's and the node's env, restart. ``stamped_cmd_vel`` sets the safety
    gate's velocity type (None: as the stack's files say).
    """
    stack = load_stack(stack_file, building=building).without(set(exclude))
    if stamped_cmd_vel is not None:
        stack = stack.with_parameters('l2b2-safety-gate', {'stamped_cmd_vel': stamped_cmd_vel})
    bin_dir = bin_dir if bin_dir is not None else script_dir()
    plans = []
    for spec in stack.nodes:
        env = {**stack.env, **dict(spec.env)}
        if not spec.ros:
            plans.append(NodePlan(name=spec.name, executable=spec.executable, ros=False, env=env,
                                  respawn=spec.restart, cmd=tuple(spec.command(bin_dir))))
            continue
        plans.append(NodePlan(
            name=spec.name, executable=spec.executable, namespace=spec.namespace or '/',
            parameters=(*spec.params, *([dict(spec.parameters)] if spec.parameters else [])),
            remappings=spec.remappings, arguments=spec.args, env=env, respawn=spec.restart))
    return stack, plans


def home_pose(files: BuildingFiles) -> dict[str, float]:
    """Where the robot docks in this building (amcl's initial pose, Gazebo's spawn point)."""
    home = load_waypoints(files.waypoints)['home']
    return {'x': home.x, 'y': home.y, 'z': 0.0, 'yaw': home.yaw}


def dock_parameters(files: BuildingFiles) -> dict[str, Any]:
    """Nav2's dock database for this building: the one dock, where the simulation docks too.

    The pose from the building's waypoints by the shared rule (l2b2_common.dock: the waypoint
    ``ladestation``, else 1.1 m behind ``home``), turned into Nav2's convention (its yaw points into the
    charger), in the map frame; so switching building moves the dock.
    """
    pose = nav2_dock_pose(dock_geometry(load_waypoints(files.waypoints)))
    return {'docks': [DOCK_ID], f'{DOCK_ID}.type': DOCK_PLUGIN, f'{DOCK_ID}.frame': 'map',
            f'{DOCK_ID}.pose': [float(pose.x), float(pose.y), float(pose.yaw)]}


def nav2_plan(building: str = '', params_file: str = '', use_sim_time: bool = False) -> list[NodePlan]:
    """Nav2 (Kilted) for one building: map_server + amcl, the navigation servers with the docking server,
    two lifecycle managers.

    Velocity chain (stamped or not by ``enable_stamped_cmd_vel`` in the params file): controller,
    behaviour server and docking server -> cmd_vel_nav_raw -> velocity smoother -> cmd_vel_smoothed ->
    collision monitor -> /cmd_vel_nav -> the l2b2 safety gate, the only publisher of /cmd_vel.
    nav2_bringup's own launch files publish the last step on /cmd_vel, and the docking server's velocity
    too, past the gate: they are not used.
    """
    share = share_dir()
    files = building_files(building)
    params = Path(params_file) if params_file else share / 'config' / 'nav2_params.yaml'
    common = {'use_sim_time': use_sim_time}

    def nav2(package: str, executable: str, remappings=(), extra: dict | None = None, name: str = '') -> NodePlan:
        return NodePlan(name=name or executable, executable=executable, package=package,
                        parameters=(params, common, *([extra] if extra else [])),
                        remappings=(*TF_REMAPS, *remappings))

    raw = ('cmd_vel', 'cmd_vel_nav_raw')
    return [
        nav2('nav2_map_server', 'map_server', extra={'yaml_filename': str(files.map_yaml)}),
        nav2('nav2_amcl', 'amcl', extra={'set_initial_pose': True, 'initial_pose': home_pose(files)}),
        nav2('nav2_controller', 'controller_server', [raw]),
        nav2('nav2_smoother', 'smoother_server'),
        nav2('nav2_planner', 'planner_server'),
        nav2('nav2_behaviors', 'behavior_server', [raw]),
        nav2('nav2_velocity_smoother', 'velocity_smoother', [raw, ('cmd_vel_smoothed', 'cmd_vel_smoothed')]),
        # Topics by parameter (cmd_vel_in_topic: cmd_vel_smoothed, cmd_vel_out_topic: /cmd_vel_nav).
        nav2('nav2_collision_monitor', 'collision_monitor'),
        nav2('nav2_bt_navigator', 'bt_navigator',
             extra={'default_nav_to_pose_bt_xml': str(share / BEHAVIOR_TREE)}),
        # The dock database from the building; the charger's state from /battery (Kilted reads battery_state).
        nav2('opennav_docking', 'opennav_docking', [raw, ('battery_state', '/battery')],
             extra=dock_parameters(files), name='docking_server'),
        NodePlan(name='lifecycle_manager_localization', executable='lifecycle_manager',
                 package='nav2_lifecycle_manager',
                 parameters=(common, {'autostart': True, 'node_names': list(LOCALISATION)})),
        NodePlan(name='lifecycle_manager_navigation', executable='lifecycle_manager',
                 package='nav2_lifecycle_manager',
                 parameters=(common, {'autostart': True, 'node_names': list(NAVIGATION)})),
    ]


def robot_description(xacro_file: str | os.PathLike | None = None) -> str:
    """The URDF (sim/urdf/l2b2.urdf.xacro expanded) that robot_state_publisher and Gazebo read."""
    import xacro  # the ROS package on a robot, the PyPI one here
    return xacro.process_file(str(xacro_file or share_dir() / 'sim' / 'urdf' / 'l2b2.urdf.xacro')).toxml()


def robot_state_publisher(use_sim_time: bool) -> NodePlan:
    """robot_state_publisher: the URDF's fixed frames on /tf_static (base_link -> laser among them)."""
    return NodePlan(name='robot_state_publisher', executable='robot_state_publisher', package='robot_state_publisher',
                    parameters=({'robot_description': robot_description(), 'use_sim_time': use_sim_time},))


@dataclass(frozen=True)
class GazeboPlan:
    files: BuildingFiles
    #: gz_sim.launch.py's ``gz_args``: run at once, headless unless gui, the building's world.
    gz_args: str
    spawn: NodePlan
    bridge: NodePlan
    state_publisher: NodePlan


def gazebo_plan(building: str = '', gui: bool = False) -> GazeboPlan:
    """Gazebo Harmonic with the building's world, the robot spawned at its home spot, and the bridge."""
    share = share_dir()
    files = building_files(building).require('world_sdf')
    home = home_pose(files)
    spawn = NodePlan(name='spawn_l2b2', executable='create', package='ros_gz_sim', arguments=(
        '-name', 'l2b2', '-topic', 'robot_description', '-x', str(home['x']), '-y', str(home['y']), '-z', '0.02',
        '-Y', str(home['yaw'])))
    bridge = NodePlan(name='ros_gz_bridge', executable='parameter_bridge', package='ros_gz_bridge',
                      parameters=({'config_file': str(share / 'sim' / 'gazebo' / 'ros_gz_bridge.yaml'),
                                   'use_sim_time': True},))
    return GazeboPlan(files=files, gz_args=f'-r {"" if gui else "-s "}{files.world_sdf}', spawn=spawn,
                      bridge=bridge, state_publisher=robot_state_publisher(use_sim_time=True))

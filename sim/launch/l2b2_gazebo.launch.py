"""The whole l2b2 stack in Gazebo Harmonic with Nav2: what `scripts/run-sim` is with pybullet.

Gazebo (sim/launch/gazebo.launch.py) replaces the pybullet simulator, Nav2 (launch/nav2.launch.py)
replaces the sim navigator; every other node of config/stack_sim.yaml starts as listed there, on
sim time.

    ros2 launch sim/launch/l2b2_gazebo.launch.py world:=buergerbuero gui:=true
"""
from pathlib import Path

from launch.actions import DeclareLaunchArgument, ExecuteProcess, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
import yaml

from l2b2_common.config import share_dir
from launch import LaunchDescription

#: Nodes of config/stack_sim.yaml that Gazebo and Nav2 replace here.
REPLACED = {'simulator', 'sim_navigator'}



def _setup(context):
    share = share_dir()
    world = LaunchConfiguration('world').perform(context)
    here = Path(__file__).resolve().parent
    actions = [
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(here / 'gazebo.launch.py')),
                                 launch_arguments={'world': world,
                                                   'gui': LaunchConfiguration('gui').perform(context)}.items()),
        IncludeLaunchDescription(PythonLaunchDescriptionSource(str(share / 'launch' / 'nav2.launch.py')),
                                 launch_arguments={'map': world, 'use_sim_time': 'true'}.items()),
    ]
    stack = yaml.safe_load((share / 'config' / 'stack_sim.yaml').read_text())
    for entry in stack['nodes']:
        if entry['name'] in REPLACED:
            continue
        if entry.get('ros', True) is False:
            actions.append(ExecuteProcess(cmd=[entry['executable'], *entry.get('args', [])], output='screen'))
            continue
        params = [str(share / 'config' / p) for p in entry.get('params', [])]
        actions.append(Node(package='l2b2', executable=entry['executable'], name=entry['name'], output='screen',
                            namespace=entry.get('namespace', ''), parameters=[*params, {'use_sim_time': True}],
                            remappings=[tuple(r.split(':=')) for r in entry.get('remappings', [])]))
    return actions


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('world', default_value='buergerbuero', description='Generated building'),
        DeclareLaunchArgument('gui', default_value='false', description='Show the Gazebo GUI'),
        OpaqueFunction(function=_setup),
    ])

"""Gazebo Harmonic with a generated Bürgerbüro world, the l2b2 robot at its home spot, and the ROS bridge.

For a machine with ROS 2 Kilted + Gazebo Harmonic (ros_gz_sim, ros_gz_bridge, robot_state_publisher,
xacro). The same topics as the pybullet simulator: /clock /odom /tf /scan in, /cmd_vel out.

    ros2 launch sim/launch/gazebo.launch.py world:=buergerbuero gui:=true
"""
from pathlib import Path

from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
import xacro
import yaml

from l2b2_common.config import share_dir
from launch import LaunchDescription


def _setup(context):
    share = share_dir()
    world = LaunchConfiguration('world').perform(context)
    gui = LaunchConfiguration('gui').perform(context).lower() == 'true'
    world_sdf = share / 'sim' / 'worlds' / f'{world}.sdf'
    home = yaml.safe_load((share / 'maps' / f'{world}_waypoints.yaml').read_text())['waypoints']['home']
    robot_description = xacro.process_file(str(share / 'sim' / 'urdf' / 'l2b2.urdf.xacro')).toxml()
    from ament_index_python.packages import get_package_share_directory
    gz_sim = Path(get_package_share_directory('ros_gz_sim')) / 'launch' / 'gz_sim.launch.py'
    return [
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(str(gz_sim)),
            launch_arguments={'gz_args': f'-r {"" if gui else "-s "}{world_sdf}', 'on_exit_shutdown': 'true'}.items()),
        Node(package='robot_state_publisher', executable='robot_state_publisher', output='screen',
             parameters=[{'robot_description': robot_description, 'use_sim_time': True}]),
        Node(package='ros_gz_sim', executable='create', output='screen',
             arguments=['-name', 'l2b2', '-string', robot_description, '-x', str(home['x']), '-y', str(home['y']),
                        '-z', '0.02', '-Y', str(home['yaw'])]),
        Node(package='ros_gz_bridge', executable='parameter_bridge', output='screen',
             parameters=[{'config_file': str(share / 'sim' / 'gazebo' / 'ros_gz_bridge.yaml'),
                          'use_sim_time': True}]),
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('world', default_value='buergerbuero',
                              description='Generated building: sim/worlds/<world>.sdf, maps/<world>_waypoints.yaml'),
        DeclareLaunchArgument('gui', default_value='false', description='Show the Gazebo GUI'),
        OpaqueFunction(function=_setup),
    ])

"""The real robot: Nav2 (launch/nav2.launch.py, wall clock) and the l2b2 nodes of config/stack_robot.yaml.

Nav2 comes from this package's own nav2.launch.py, not nav2_bringup's bringup_launch.py: the latter
publishes the velocity smoother's output on /cmd_vel, which would drive the wheels past the l2b2
safety gate (emergency stop, dead-man). Here every Nav2 velocity goes to /cmd_vel_nav and the gate is
the only publisher of /cmd_vel. The base and lidar drivers are the robot vendor's and run beside this.

    ros2 launch l2b2 l2b2_robot.launch.py map:=buergerbuero
"""
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription


def generate_launch_description():
    launch_dir = PathJoinSubstitution([FindPackageShare('l2b2'), 'launch'])
    return LaunchDescription([
        DeclareLaunchArgument('map', default_value='buergerbuero', description='Generated map: maps/<map>.yaml'),
        DeclareLaunchArgument('params_file', default_value='',
                              description='Nav2 parameters (default: config/nav2_params.yaml)'),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(PathJoinSubstitution([launch_dir, 'nav2.launch.py'])),
            launch_arguments={'map': LaunchConfiguration('map'), 'params_file': LaunchConfiguration('params_file'),
                              'use_sim_time': 'false'}.items(),
        ),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(PathJoinSubstitution([launch_dir, 'l2b2_stack.launch.py'])),
            launch_arguments={'stack': 'stack_robot.yaml'}.items(),
        ),
    ])

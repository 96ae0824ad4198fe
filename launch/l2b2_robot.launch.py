"""The l2b2 nodes on the real robot, beside Nav2 (nav2_bringup with config/nav2_params.yaml).

    ros2 launch nav2_bringup bringup_launch.py map:=<share>/maps/buergerbuero.yaml \
        params_file:=<share>/config/nav2_params.yaml
    ros2 launch l2b2 l2b2_robot.launch.py
"""
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription


def generate_launch_description():
    return LaunchDescription([
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare('l2b2'), 'launch',
                                                                'l2b2_stack.launch.py'])),
            launch_arguments={'stack': 'stack_robot.yaml'}.items(),
        ),
    ])

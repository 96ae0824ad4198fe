"""The whole stack in the headless simulation (what scripts/run-sim starts), via ros2 launch.

    ros2 launch l2b2 l2b2_sim.launch.py building:=rathaus_nord
"""
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('building', default_value='', description="building; '' = the stack file's"),
        IncludeLaunchDescription(
            PythonLaunchDescriptionSource(PathJoinSubstitution([FindPackageShare('l2b2'), 'launch',
                                                                'l2b2_stack.launch.py'])),
            launch_arguments={'stack': 'stack_sim.yaml', 'building': LaunchConfiguration('building')}.items(),
        ),
    ])

"""The whole stack in the headless simulation (what scripts/run-sim starts), via ros2 launch."""
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
            launch_arguments={'stack': 'stack_sim.yaml'}.items(),
        ),
    ])

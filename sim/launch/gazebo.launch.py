"""Gazebo Harmonic with a building's generated world, the l2b2 robot at its home spot, and the ROS bridge.

For a machine with ROS 2 Kilted + Gazebo Harmonic (ros_gz_sim, ros_gz_bridge, robot_state_publisher,
xacro). The same topics as the pybullet simulator: /clock /odom /tf /scan in, /cmd_vel out
(TwistStamped, as the safety gate publishes it beside Nav2). What starts is decided in
l2b2_bringup.launch_plan.gazebo_plan (tested without launch installed).

    ros2 launch l2b2 gazebo.launch.py building:=buergerbuero gui:=true
"""
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from l2b2_bringup.launch_plan import flag, gazebo_plan
from launch import LaunchDescription


def _setup(context, *args, **kwargs):
    plan = gazebo_plan(LaunchConfiguration('building').perform(context),
                       gui=bool(flag(LaunchConfiguration('gui').perform(context))))
    gz_sim = PathJoinSubstitution([FindPackageShare('ros_gz_sim'), 'launch', 'gz_sim.launch.py'])
    return [
        IncludeLaunchDescription(PythonLaunchDescriptionSource(gz_sim),
                                 launch_arguments={'gz_args': plan.gz_args, 'on_exit_shutdown': 'true'}.items()),
        Node(**plan.state_publisher.node_kwargs()),
        Node(**plan.spawn.node_kwargs()),
        Node(**plan.bridge.node_kwargs()),
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('building', default_value='buergerbuero',
                              description='building: sim/worlds/<building>.sdf, spawned at home of its waypoints'),
        DeclareLaunchArgument('gui', default_value='false', description='Show the Gazebo GUI'),
        OpaqueFunction(function=_setup),
    ])

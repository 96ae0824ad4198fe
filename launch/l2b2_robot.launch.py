"""The real robot: robot_state_publisher, Nav2 (launch/nav2.launch.py, wall clock) and the l2b2 nodes
of config/stack_robot.yaml, all in one building.

Nav2 comes from this package's own nav2.launch.py, not nav2_bringup's bringup_launch.py: the latter
publishes the last Nav2 velocity on /cmd_vel, which would drive the wheels past the l2b2 safety gate
(emergency stop, dead-man). Here every Nav2 velocity goes to /cmd_vel_nav and the gate is the only
publisher of /cmd_vel (geometry_msgs/TwistStamped, as ros2_control's diff_drive_controller takes it).
robot_state_publisher publishes the URDF's fixed frames, base_link -> laser among them. The base
driver (odom -> base_link, /odom, /joint_states) and the lidar driver (/scan in frame laser) are the
robot vendor's and run beside this: docs/real_robot.md.

One building setting: the ``building`` argument, else the stack file's ``building:`` (as `l2b2-launch`
reads it), resolved once here and handed to Nav2 (map, amcl's start, the dock) and to every l2b2 node.

    ros2 launch l2b2 l2b2_robot.launch.py building:=buergerbuero
    ros2 launch l2b2 l2b2_robot.launch.py exclude:=office    # no working day: dock by hand (bring-up)
"""
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from l2b2_bringup.launch_plan import robot_state_publisher
from l2b2_bringup.stack import load_stack
from launch import LaunchDescription


def _setup(context, *args, **kwargs):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    stack_file = arg('stack')
    # The argument, else the stack file's own setting (an unknown building fails here, before anything starts).
    building = load_stack(stack_file, building=arg('building')).building
    launch_dir = PathJoinSubstitution([FindPackageShare('l2b2'), 'launch'])

    def include(name, arguments):
        return IncludeLaunchDescription(PythonLaunchDescriptionSource(PathJoinSubstitution([launch_dir, name])),
                                        launch_arguments=arguments.items())

    return [
        Node(**robot_state_publisher(use_sim_time=False).node_kwargs()),
        include('nav2.launch.py', {'building': building, 'params_file': arg('params_file'), 'use_sim_time': 'false'}),
        include('l2b2_stack.launch.py', {'stack': stack_file, 'building': building, 'exclude': arg('exclude')}),
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('building', default_value='',
                              description="building: map, waypoints, dock and panel map of maps/<building>*; "
                                          "'' = the stack file's `building`"),
        DeclareLaunchArgument('stack', default_value='stack_robot.yaml',
                              description='the l2b2 nodes: a stack description (a path, or a file name under config/)'),
        DeclareLaunchArgument('params_file', default_value='',
                              description='Nav2 parameters (default: config/nav2_params.yaml)'),
        DeclareLaunchArgument('exclude', default_value='',
                              description='l2b2 nodes to leave out, comma-separated (office: dock by hand at bring-up)'),
        OpaqueFunction(function=_setup),
    ])

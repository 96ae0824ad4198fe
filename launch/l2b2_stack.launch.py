"""Launch an l2b2 stack description with ros2 launch, on a machine with a full ROS 2 install.

    ros2 launch l2b2 l2b2_stack.launch.py stack:=stack_robot.yaml building:=rathaus_nord

The same stack description (config/stack_*.yaml) and the same loader drive `l2b2-launch` where ros2
launch is missing (l2b2_bringup.launch_plan.stack_plan): both start the same nodes with the same
parameters, names, remappings, environment and building. Gazebo (sim/launch/l2b2_gazebo.launch.py)
includes this file too.
"""
from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from l2b2_bringup.launch_plan import csv, flag, stack_plan
from launch import LaunchDescription


def _nodes(context, *args, **kwargs):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    _stack, plans = stack_plan(arg('stack'), arg('building'), exclude=csv(arg('exclude')),
                               stamped_cmd_vel=flag(arg('stamped_cmd_vel')))
    return [Node(**p.node_kwargs()) if p.ros else ExecuteProcess(**p.process_kwargs()) for p in plans]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('stack', default_value='stack_robot.yaml',
                              description='stack description: a path, or a file name under config/'),
        DeclareLaunchArgument('building', default_value='',
                              description="building (maps/<building>.yaml ...); '' = the stack file's"),
        DeclareLaunchArgument('exclude', default_value='', description='nodes to leave out, comma-separated'),
        DeclareLaunchArgument('stamped_cmd_vel', default_value='',
                              description="safety gate velocities as TwistStamped (true/false); '' = as configured"),
        OpaqueFunction(function=_nodes),
    ])

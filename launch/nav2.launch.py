"""Nav2 (Kilted) on a generated floor map with config/nav2_params.yaml: localisation and navigation.

Starts map_server + amcl and the navigation servers (with the collision monitor and the docking
server) under two lifecycle managers, like nav2_bringup, but only the servers l2b2 uses, with our
behaviour tree for a public office (config/behavior_trees/navigate_public_office.xml) and the
building's charger in the docking server's dock database. nav2_bringup's own launch files send the
last velocity straight to /cmd_vel; here it goes to /cmd_vel_nav instead, so the l2b2 safety gate
(emergency stop, dead-man, stale-command guard) stays the only publisher of /cmd_vel. What starts is
decided in l2b2_bringup.launch_plan.nav2_plan (tested without launch installed).

    ros2 launch l2b2 nav2.launch.py building:=buergerbuero        # robot: wall clock (default)
    ros2 launch l2b2 nav2.launch.py building:=rathaus_nord use_sim_time:=true   # Gazebo
"""
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from l2b2_bringup.launch_plan import flag, nav2_plan
from launch import LaunchDescription


def _setup(context, *args, **kwargs):
    def arg(name):
        return LaunchConfiguration(name).perform(context)

    plans = nav2_plan(arg('building'), arg('params_file'), use_sim_time=bool(flag(arg('use_sim_time'))))
    return [Node(**p.node_kwargs()) for p in plans]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('building', default_value='buergerbuero',
                              description='building: maps/<building>.yaml and its waypoints (amcl starts at home; the dock)'),
        DeclareLaunchArgument('params_file', default_value='',
                              description='Nav2 parameters (default: config/nav2_params.yaml)'),
        DeclareLaunchArgument('use_sim_time', default_value='false', description='Use /clock (Gazebo)'),
        OpaqueFunction(function=_setup),
    ])

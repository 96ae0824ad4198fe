"""Nav2 (Kilted) on a generated floor map with config/nav2_params.yaml: localisation and navigation.

Starts map_server + amcl and the navigation servers under two lifecycle managers, like nav2_bringup,
but only the servers l2b2 uses. nav2_bringup's own launch files send the velocity smoother's output
straight to /cmd_vel; here every Nav2 velocity goes to /cmd_vel_nav instead, so the l2b2 safety gate
(emergency stop, dead-man, stale-command guard) stays the only publisher of /cmd_vel. The robot
(launch/l2b2_robot.launch.py, wall clock) and Gazebo (sim/launch/l2b2_gazebo.launch.py, sim time)
both start Nav2 from this file.

    ros2 launch l2b2 nav2.launch.py map:=buergerbuero use_sim_time:=false
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
import yaml

from l2b2_common.config import share_dir
from launch import LaunchDescription

LOCALISATION = ['map_server', 'amcl']
NAVIGATION = ['controller_server', 'smoother_server', 'planner_server', 'behavior_server', 'velocity_smoother',
              'bt_navigator']



def _setup(context):
    share = share_dir()
    building = LaunchConfiguration('map').perform(context)
    params = LaunchConfiguration('params_file').perform(context) or str(share / 'config' / 'nav2_params.yaml')
    sim_time = LaunchConfiguration('use_sim_time').perform(context).lower() == 'true'
    common = {'use_sim_time': sim_time}
    home = yaml.safe_load((share / 'maps' / f'{building}_waypoints.yaml').read_text())['waypoints']['home']
    # amcl starts where the robot docks in this building (the params file has the Bürgerbüro's).
    initial_pose = {'set_initial_pose': True,
                    'initial_pose': {'x': home['x'], 'y': home['y'], 'z': 0.0, 'yaw': home['yaw']}}
    tf = [('/tf', 'tf'), ('/tf_static', 'tf_static')]

    def nav2(package, executable, name, remappings=()):
        return Node(package=package, executable=executable, name=name, output='screen',
                    parameters=[params, common], remappings=[*tf, *remappings])

    return [
        Node(package='nav2_map_server', executable='map_server', name='map_server', output='screen',
             parameters=[params, common, {'yaml_filename': str(share / 'maps' / f'{building}.yaml')}]),
        Node(package='nav2_amcl', executable='amcl', name='amcl', output='screen',
             parameters=[params, common, initial_pose], remappings=tf),
        nav2('nav2_controller', 'controller_server', 'controller_server', [('cmd_vel', 'cmd_vel_nav_raw')]),
        nav2('nav2_smoother', 'smoother_server', 'smoother_server'),
        nav2('nav2_planner', 'planner_server', 'planner_server'),
        nav2('nav2_behaviors', 'behavior_server', 'behavior_server', [('cmd_vel', 'cmd_vel_nav_raw')]),
        nav2('nav2_velocity_smoother', 'velocity_smoother', 'velocity_smoother',
             [('cmd_vel', 'cmd_vel_nav_raw'), ('cmd_vel_smoothed', '/cmd_vel_nav')]),
        nav2('nav2_bt_navigator', 'bt_navigator', 'bt_navigator'),
        Node(package='nav2_lifecycle_manager', executable='lifecycle_manager', name='lifecycle_manager_localization',
             output='screen', parameters=[common, {'autostart': True, 'node_names': LOCALISATION}]),
        Node(package='nav2_lifecycle_manager', executable='lifecycle_manager', name='lifecycle_manager_navigation',
             output='screen', parameters=[common, {'autostart': True, 'node_names': NAVIGATION}]),
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('map', default_value='buergerbuero', description='Generated map: maps/<map>.yaml'),
        DeclareLaunchArgument('params_file', default_value='', description='Nav2 parameters (default: config/nav2_params.yaml)'),
        DeclareLaunchArgument('use_sim_time', default_value='true', description='Use /clock (Gazebo)'),
        OpaqueFunction(function=_setup),
    ])

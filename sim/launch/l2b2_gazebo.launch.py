"""The whole l2b2 stack in Gazebo Harmonic with Nav2: what `scripts/run-sim` is with pybullet.

Gazebo (gazebo.launch.py) replaces the pybullet simulator, Nav2 (launch/nav2.launch.py, with the
collision monitor and our behaviour tree) replaces the sim navigator; every other node of
config/stack_sim.yaml but the office day's (no battery or charger in the Gazebo world) starts through launch/l2b2_stack.launch.py, the same loader as on the robot
and in `l2b2-launch`, on sim time. Nav2 publishes TwistStamped, so the safety gate does too here.
One building argument selects the world, the map, the waypoints and the panel's map.

    ros2 launch l2b2 l2b2_gazebo.launch.py building:=buergerbuero gui:=true
"""
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription

#: Nodes of config/stack_sim.yaml not started here: Gazebo and Nav2 replace the simulator and the sim navigator;
#: the Gazebo world has no battery or charger, so the office day (office node, simulated dock) does not run.
EXCLUDED = 'simulator,sim_navigator,office,docking_server'


def generate_launch_description():
    share = FindPackageShare('l2b2')
    building = LaunchConfiguration('building')

    def include(folder, name, arguments):
        return IncludeLaunchDescription(PythonLaunchDescriptionSource(PathJoinSubstitution([share, folder, name])),
                                        launch_arguments=arguments.items())

    return LaunchDescription([
        DeclareLaunchArgument('building', default_value='buergerbuero', description='Generated building'),
        DeclareLaunchArgument('gui', default_value='false', description='Show the Gazebo GUI'),
        include('sim/launch', 'gazebo.launch.py', {'building': building, 'gui': LaunchConfiguration('gui')}),
        include('launch', 'nav2.launch.py', {'building': building, 'use_sim_time': 'true'}),
        include('launch', 'l2b2_stack.launch.py', {'stack': 'stack_sim.yaml', 'building': building,
                                                  'exclude': EXCLUDED, 'stamped_cmd_vel': 'true'}),
    ])

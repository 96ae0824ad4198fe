"""The whole l2b2 stack in Gazebo Harmonic with Nav2: what `scripts/run-sim` is with pybullet.

Gazebo (gazebo.launch.py) replaces the pybullet simulator, Nav2 (launch/nav2.launch.py, with the
collision monitor and our behaviour tree) replaces the sim navigator; every other node of
config/stack_sim.yaml but the office day's (no battery or charger in the Gazebo world) starts through
launch/l2b2_stack.launch.py, the same loader as on the robot and in `l2b2-launch`, on sim time. Nav2 publishes TwistStamped, so the safety gate does too here.
One building setting selects the world, the map, the waypoints and the panel's map: the ``building``
argument, else config/stack_sim.yaml's ``building:`` (as `l2b2-launch` reads it), resolved once here.

    ros2 launch l2b2 l2b2_gazebo.launch.py building:=buergerbuero gui:=true
"""
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

from l2b2_bringup.stack import load_stack
from launch import LaunchDescription

#: The l2b2 nodes: the simulation's stack description.
STACK = 'stack_sim.yaml'
#: Nodes of config/stack_sim.yaml not started here: Gazebo and Nav2 replace the simulator and the sim navigator;
#: the Gazebo world has no battery or charger, so the office day (office node, simulated dock) does not run.
EXCLUDED = 'simulator,sim_navigator,office,docking_server'


def _setup(context, *args, **kwargs):
    # The argument, else the stack file's own setting (an unknown building fails here, before anything starts).
    building = load_stack(STACK, building=LaunchConfiguration('building').perform(context)).building
    share = FindPackageShare('l2b2')

    def include(folder, name, arguments):
        return IncludeLaunchDescription(PythonLaunchDescriptionSource(PathJoinSubstitution([share, folder, name])),
                                        launch_arguments=arguments.items())

    return [
        include('sim/launch', 'gazebo.launch.py', {'building': building, 'gui': LaunchConfiguration('gui')}),
        include('launch', 'nav2.launch.py', {'building': building, 'use_sim_time': 'true'}),
        include('launch', 'l2b2_stack.launch.py', {'stack': STACK, 'building': building,
                                                  'exclude': EXCLUDED, 'stamped_cmd_vel': 'true'}),
    ]


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('building', default_value='',
                              description="generated building (sim/worlds/<building>.sdf, maps/<building>*); "
                                          "'' = config/stack_sim.yaml's `building`"),
        DeclareLaunchArgument('gui', default_value='false', description='Show the Gazebo GUI'),
        OpaqueFunction(function=_setup),
    ])

"""Launch an l2b2 stack description with ros2 launch, on a machine with a full ROS 2 install.

    ros2 launch l2b2 l2b2_stack.launch.py stack:=stack_robot.yaml

The same stack description (config/stack_*.yaml) drives `l2b2-launch` where ros2 launch is missing,
so both launchers start the same nodes with the same parameters, names and remappings.
"""
from pathlib import Path

from launch.actions import DeclareLaunchArgument, ExecuteProcess, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from l2b2_bringup.stack import load_stack
from launch import LaunchDescription


def _script_dir() -> Path | None:
    """Where a colcon install puts the console scripts (lib/l2b2, not on PATH); None in a venv."""
    try:
        from ament_index_python.packages import get_package_prefix
        lib = Path(get_package_prefix('l2b2')) / 'lib' / 'l2b2'
    except Exception:  # noqa: BLE001 - not installed with colcon: resolve beside the interpreter
        return None
    return lib if lib.is_dir() else None


def _nodes(context, *args, **kwargs):
    stack = load_stack(LaunchConfiguration('stack').perform(context))
    bin_dir = _script_dir()
    actions = []
    for spec in stack.nodes:
        env = {**stack.env, **dict(spec.env)}
        if not spec.ros:
            actions.append(ExecuteProcess(cmd=spec.command(bin_dir), name=spec.name, output='screen',
                                          additional_env=env, respawn=spec.restart, respawn_delay=2.0))
            continue
        actions.append(Node(
            package='l2b2',
            executable=spec.executable,
            name=spec.name,
            namespace=spec.namespace or None,
            parameters=[str(p) for p in spec.params] + ([dict(spec.parameters)] if spec.parameters else []),
            remappings=list(spec.remappings),
            arguments=list(spec.args),
            additional_env=env,
            respawn=spec.restart,
            respawn_delay=2.0,
            output='screen',
        ))
    return actions


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument('stack', default_value='stack_robot.yaml',
                              description='stack description: a path, or a file name under config/'),
        OpaqueFunction(function=_nodes),
    ])

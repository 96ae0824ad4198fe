"""Stand-ins for ``launch`` and ``launch_ros`` (not installable here) that run our launch files for real.

Each class takes exactly the arguments of its upstream counterpart (ros2/launch and ros2/launch_ros,
rolling = Kilted's API: ``Node(*, executable, package, name, namespace, exec_name, parameters,
remappings, ros_arguments, arguments, **ExecuteProcess)``, ``ExecuteProcess(*, cmd, prefix, name, cwd,
env, additional_env, **ExecuteLocal)`` ...), so a misspelt or removed keyword fails here as it would in
``ros2 launch``. :func:`expand` then evaluates a launch file like ``ros2 launch`` does (arguments and
their defaults, OpaqueFunction, includes with their arguments) and returns every process it would start.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import importlib.util
import os
from pathlib import Path
import sys
import types
from typing import Any

import yaml

from l2b2_common.config import REPO_ROOT


class Substitution:
    def perform(self, context: Context) -> str:
        raise NotImplementedError


class LaunchConfiguration(Substitution):
    def __init__(self, variable_name, *, default=None):
        self.name, self.default = variable_name, default

    def perform(self, context):
        if self.name in context.launch_configurations:
            return context.launch_configurations[self.name]
        if self.default is None:
            raise KeyError(f'launch configuration "{self.name}" is not set')
        return context.perform(self.default)


class PathJoinSubstitution(Substitution):
    def __init__(self, substitutions):
        self.parts = list(substitutions)

    def perform(self, context):
        return os.path.join(*(context.perform(p) for p in self.parts))


class FindPackageShare(Substitution):
    def __init__(self, package):
        self.package = package

    def perform(self, context):
        return str(REPO_ROOT) if context.perform(self.package) == 'l2b2' else f'/opt/ros/kilted/share/{self.package}'


class LaunchDescription:
    def __init__(self, initial_entities=None, *, deprecated_reason=None):
        self.entities = list(initial_entities or [])


class Action:
    def __init__(self, *, condition=None):
        self.condition = condition


class DeclareLaunchArgument(Action):
    def __init__(self, name, *, default_value=None, description=None, choices=None, **kwargs):
        super().__init__(**kwargs)
        self.name, self.default_value, self.description, self.choices = name, default_value, description, choices


class PythonLaunchDescriptionSource:
    def __init__(self, launch_file_path):
        self.path = launch_file_path


class IncludeLaunchDescription(Action):
    def __init__(self, launch_description_source, *, launch_arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.source = launch_description_source
        self.launch_arguments = list(launch_arguments or [])


class OpaqueFunction(Action):
    def __init__(self, *, function, args=None, kwargs=None, **left_over_kwargs):
        super().__init__(**left_over_kwargs)
        self.function, self.args, self.kwargs = function, list(args or []), dict(kwargs or {})


class ExecuteLocal(Action):
    def __init__(self, *, process_description=None, shell=False, sigterm_timeout=5, sigkill_timeout=5,
                 emulate_tty=False, output='log', output_format='', cached_output=False, log_cmd=False,
                 on_exit=None, respawn=False, respawn_delay=None, respawn_max_retries=-1, **kwargs):
        super().__init__(**kwargs)
        self.output, self.respawn, self.respawn_delay = output, respawn, respawn_delay


class ExecuteProcess(ExecuteLocal):
    def __init__(self, *, cmd, prefix=None, name=None, cwd=None, env=None, additional_env=None, **kwargs):
        super().__init__(**kwargs)
        self.cmd, self.name, self.env, self.additional_env = list(cmd), name, env, dict(additional_env or {})


class Node(ExecuteProcess):
    def __init__(self, *, executable, package=None, name=None, namespace=None, exec_name=None, parameters=None,
                 remappings=None, ros_arguments=None, arguments=None, **kwargs):
        super().__init__(cmd=[executable], name=exec_name, **kwargs)
        self.package, self.executable, self.node_name, self.namespace = package, executable, name, namespace
        self.parameters, self.remappings = list(parameters or []), list(remappings or [])
        self.arguments = list(arguments or [])


@dataclass
class Context:
    launch_configurations: dict[str, str] = field(default_factory=dict)

    def perform(self, value: Any) -> str:
        if isinstance(value, Substitution):
            return value.perform(self)
        if isinstance(value, (list, tuple)):
            return ''.join(self.perform(v) for v in value)
        return str(value)


@dataclass
class Expanded:
    """What one ``ros2 launch`` would start."""

    nodes: list[Node] = field(default_factory=list)
    processes: list[ExecuteProcess] = field(default_factory=list)
    #: Launch files of other packages: (path, {argument: value}).
    external: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def node(self, name: str) -> Node:
        found = [n for n in self.nodes if n.node_name == name]
        assert len(found) == 1, f'{len(found)} nodes named {name}: {[n.node_name for n in self.nodes]}'
        return found[0]


def _modules() -> dict[str, types.ModuleType]:
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        return m
    mods = {
        'launch.actions': module('launch.actions', DeclareLaunchArgument=DeclareLaunchArgument,
                                 IncludeLaunchDescription=IncludeLaunchDescription, OpaqueFunction=OpaqueFunction,
                                 ExecuteProcess=ExecuteProcess, ExecuteLocal=ExecuteLocal),
        'launch.substitutions': module('launch.substitutions', LaunchConfiguration=LaunchConfiguration,
                                       PathJoinSubstitution=PathJoinSubstitution),
        'launch.launch_description_sources': module('launch.launch_description_sources',
                                                    PythonLaunchDescriptionSource=PythonLaunchDescriptionSource),
        'launch_ros.actions': module('launch_ros.actions', Node=Node),
        'launch_ros.substitutions': module('launch_ros.substitutions', FindPackageShare=FindPackageShare),
    }
    mods['launch'] = module('launch', LaunchDescription=LaunchDescription, actions=mods['launch.actions'],
                            substitutions=mods['launch.substitutions'],
                            launch_description_sources=mods['launch.launch_description_sources'])
    mods['launch_ros'] = module('launch_ros', actions=mods['launch_ros.actions'],
                                substitutions=mods['launch_ros.substitutions'])
    return mods


def expand(path: str | Path, arguments: dict[str, str] | None = None) -> Expanded:
    """Evaluate a launch file with ``arguments`` (as ``ros2 launch FILE a:=b``) and return what it starts."""
    saved = {name: sys.modules.get(name) for name in _modules()}
    sys.modules.update(_modules())
    try:
        out = Expanded()
        _expand(Path(path), Context(dict(arguments or {})), out)
        return out
    finally:
        for name, mod in saved.items():
            if mod is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = mod


def _expand(path: Path, context: Context, out: Expanded) -> None:
    spec = importlib.util.spec_from_file_location(f'launch_file_{path.stem.replace(".", "_")}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _walk(module.generate_launch_description().entities, context, out)


def _walk(entities, context: Context, out: Expanded) -> None:
    for entity in entities:
        if isinstance(entity, DeclareLaunchArgument):
            if entity.name not in context.launch_configurations:
                assert entity.default_value is not None, f'launch argument {entity.name} has no default'
                context.launch_configurations[entity.name] = context.perform(entity.default_value)
            if entity.choices:
                assert context.launch_configurations[entity.name] in entity.choices
        elif isinstance(entity, OpaqueFunction):
            _walk(entity.function(context, *entity.args, **entity.kwargs) or [], context, out)
        elif isinstance(entity, IncludeLaunchDescription):
            target = context.perform(entity.source.path)
            arguments = {context.perform(k): context.perform(v) for k, v in entity.launch_arguments}
            if Path(target).is_relative_to(REPO_ROOT):
                assert Path(target).is_file(), f'included launch file {target} does not exist'
                _expand(Path(target), Context({**context.launch_configurations, **arguments}), out)
            else:
                out.external.append((target, arguments))
        elif isinstance(entity, Node):
            out.nodes.append(entity)
        elif isinstance(entity, ExecuteProcess):
            out.processes.append(entity)
        else:
            raise AssertionError(f'unexpected launch entity {entity!r}')


def effective(node) -> dict:
    """The parameters a node ends up with: its files (own name or /** entry) and dicts, later ones winning."""
    out: dict = {}
    for item in node.parameters:
        if isinstance(item, dict):
            out.update(item)
            continue
        data = yaml.safe_load(Path(item).read_text()) or {}
        for key in ('/**', node.node_name, f'/{node.node_name}'):
            out.update((data.get(key) or {}).get('ros__parameters', {}))
    return out

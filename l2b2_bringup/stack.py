"""Stack descriptions (config/stack_*.yaml): which nodes make up the robot's software, and how to start them.

One description serves both launchers: ``l2b2-launch`` here, and ``launch/*.launch.py`` on a machine
with a full ROS 2 install. Pure Python: no ROS import.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
import os
from pathlib import Path
import re
import shutil
import sys
from typing import Any

from pydantic import field_validator
import yaml

from l2b2_common.building import DEFAULT_BUILDING, building_files
from l2b2_common.config import ConfigError, StrictModel, config_path, load_model

_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')
_Scalar = str | int | float | bool

#: The building setting's consumers: which parameter of which l2b2 executable names which of the
#: building's files (l2b2_common.building.BuildingFiles). Nav2 and Gazebo get theirs from the launch
#: files (l2b2_bringup.launch_plan), from the same resolver.
BUILDING_PARAMETERS: dict[str, dict[str, str]] = {
    'l2b2-escort': {'waypoints_file': 'waypoints'},
    'l2b2-office': {'waypoints_file': 'waypoints'},
    'l2b2-sim-dock': {'waypoints_file': 'waypoints'},
    'l2b2-panel': {'map_yaml': 'map_yaml', 'waypoints_yaml': 'waypoints'},
    'l2b2-simulator': {'world': 'world_json'},
    'l2b2-sim-navigator': {'map': 'map_yaml'},
}


@dataclass(frozen=True)
class NodeSpec:
    """One process of the stack."""

    name: str
    executable: str
    params: tuple[Path, ...] = ()
    namespace: str = ''
    remappings: tuple[tuple[str, str], ...] = ()
    parameters: tuple[tuple[str, Any], ...] = ()
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    ros: bool = True
    restart: bool = True

    @property
    def fully_qualified_name(self) -> str:
        return '/' + '/'.join(part for part in (self.namespace.strip('/'), self.name) if part)

    def command(self, bin_dir: Path | None = None, params_dir: Path | None = None) -> list[str]:
        """The command line that starts this node (ROS arguments included).

        Inline ``parameters`` must beat the parameter files, but rcl ranks a file's entry for the node's
        own name above a ``-p`` override (which counts as a wildcard). So, like launch_ros, they are
        written to a last parameter file under the node's fully qualified name (into ``params_dir``);
        without a folder they fall back to ``-p`` (enough for parameters no file sets).
        """
        cmd = [resolve_executable(self.executable, bin_dir), *self.args]
        if not self.ros:
            return cmd
        cmd += ['--ros-args', '-r', f'__node:={self.name}']
        if self.namespace:  # absolute, as launch_ros makes it (rcl rejects a relative one)
            cmd += ['-r', f'__ns:=/{self.namespace.lstrip("/")}']
        for path in self.params:
            cmd += ['--params-file', str(path)]
        if self.parameters and params_dir is not None:
            path = Path(params_dir) / f'{self.fully_qualified_name.strip("/").replace("/", "__")}.overrides.yaml'
            path.write_text(yaml.safe_dump({self.fully_qualified_name: {'ros__parameters': dict(self.parameters)}}))
            cmd += ['--params-file', str(path)]
        else:
            for key, value in self.parameters:
                cmd += ['-p', f'{key}:={_ros_value(value)}']
        for src, dst in self.remappings:
            cmd += ['-r', f'{src}:={dst}']
        return cmd


@dataclass(frozen=True)
class Stack:
    name: str
    nodes: tuple[NodeSpec, ...]
    env: dict[str, str] = field(default_factory=dict)
    banner: str = ''
    path: Path | None = None
    building: str = DEFAULT_BUILDING

    def node(self, name: str) -> NodeSpec:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def without(self, names: set[str]) -> Stack:
        return replace(self, nodes=tuple(n for n in self.nodes if n.name not in names))

    def with_parameters(self, executable: str, parameters: dict[str, Any]) -> Stack:
        """Every node running ``executable`` gets ``parameters`` on top of its own (they win)."""
        return replace(self, nodes=tuple(
            replace(n, parameters=_merged(n.parameters, parameters)) if n.executable == executable and n.ros else n
            for n in self.nodes))

    def for_building(self, name: str = '') -> Stack:
        """The same stack in building ``name`` ('' = the default): each consumer gets that building's files."""
        files = building_files(name)
        stack = replace(self, building=files.name)
        for executable, wanted in BUILDING_PARAMETERS.items():
            if any(n.executable == executable for n in self.nodes):
                files.require(*wanted.values())
                stack = stack.with_parameters(executable, {p: str(getattr(files, kind)) for p, kind in wanted.items()})
        return stack


def _merged(own: tuple[tuple[str, Any], ...], extra: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((k, v) for k, v in own if k not in extra) + tuple(extra.items())


def resolve_executable(executable: str, bin_dir: Path | None = None) -> str:
    """Console scripts live beside the interpreter (the venv's bin/); fall back to PATH."""
    bin_dir = bin_dir or Path(sys.executable).parent
    candidate = bin_dir / executable
    if candidate.exists():
        return str(candidate)
    found = shutil.which(executable)
    return found or str(candidate)


class _NodeEntry(StrictModel):
    name: str
    executable: str = ''  # checked after validation, so a misspelt key is reported as unknown, not as missing
    params: list[str] = []
    namespace: str = ''
    remappings: dict[str, str] = {}
    parameters: dict[str, Any] = {}
    args: list[str | int | float] = []
    env: dict[str, _Scalar] = {}
    ros: bool = True
    restart: bool = True

    @field_validator('name')
    @classmethod
    def _ros_name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f'"{v}" is not a valid ROS node name')
        return v


class _StackFile(StrictModel):
    stack: str
    #: The building the stack runs in (l2b2_common.building); ``l2b2-launch --building`` overrides it.
    building: str = ''
    env: dict[str, _Scalar] = {}
    banner: str = ''
    #: Parameters every ROS node of the stack gets.
    parameters: dict[str, Any] = {}
    nodes: list[_NodeEntry]

    @field_validator('nodes')
    @classmethod
    def _some(cls, v: list) -> list:
        if not v:
            raise ValueError('a stack needs at least one node')
        return v


def load_stack(path: str | os.PathLike, building: str = '') -> Stack:
    """Load and validate a stack description for ``building`` ('' = the file's ``building``, else the default).

    Errors name the file and the key. Every node that reads a building file gets that building's path
    (:data:`BUILDING_PARAMETERS`), so one setting selects map, waypoints and world everywhere.
    """
    path = config_path(str(path)) if not Path(path).exists() else Path(path)
    root = load_model(path, _StackFile)
    nodes = []
    seen = set()
    for i, entry in enumerate(root.nodes):
        key = f'nodes[{i}]'
        if not entry.executable.strip():
            raise ConfigError(path, f'{key}.executable', 'required key is missing')
        if entry.name in seen:
            raise ConfigError(path, f'{key}.name', f'duplicate node name "{entry.name}"')
        seen.add(entry.name)
        owned = set(entry.parameters) & set(BUILDING_PARAMETERS.get(entry.executable, {}))
        if owned:
            raise ConfigError(path, f'{key}.parameters.{sorted(owned)[0]}',
                              'set by the building setting: use the top-level "building" key instead')
        params = []
        for j, p in enumerate(entry.params):
            resolved = config_path(p)
            if not resolved.is_file():
                raise ConfigError(path, f'{key}.params[{j}]', f'parameter file {resolved} does not exist')
            params.append(resolved)
        nodes.append(NodeSpec(
            name=entry.name,
            executable=entry.executable,
            params=tuple(params),
            namespace=entry.namespace,
            remappings=tuple(entry.remappings.items()),
            parameters=(tuple(root.parameters.items()) + tuple(entry.parameters.items())) if entry.ros else (),
            args=tuple(str(a) for a in entry.args),
            env=tuple((k, _text(v)) for k, v in entry.env.items()),
            ros=entry.ros,
            restart=entry.restart,
        ))
    stack = Stack(name=root.stack, nodes=tuple(nodes), env={k: _text(v) for k, v in root.env.items()},
                  banner=root.banner, path=path)
    try:
        return stack.for_building(building or root.building)
    except ConfigError as exc:
        if building:  # the command line's choice: the error is the launcher's, not the file's
            raise
        raise ConfigError(path, 'building', exc.reason) from None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


def _ros_value(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_ros_value(v) for v in value) + ']'
    return str(value)

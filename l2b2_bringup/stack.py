"""Stack descriptions (config/stack_*.yaml): which nodes make up the robot's software, and how to start them.

One description serves both launchers: ``l2b2-launch`` here, and ``launch/*.launch.py`` on a machine
with a full ROS 2 install. Pure Python: no ROS import.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
import re
import shutil
import sys
from typing import Any

import yaml

from l2b2_common.config import Section, config_path, load_yaml

_NAME = re.compile(r'^[A-Za-z][A-Za-z0-9_]*$')


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
        if self.namespace:
            cmd += ['-r', f'__ns:={self.namespace}']
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

    def node(self, name: str) -> NodeSpec:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def without(self, names: set[str]) -> Stack:
        return Stack(self.name, tuple(n for n in self.nodes if n.name not in names), self.env, self.banner, self.path)


def resolve_executable(executable: str, bin_dir: Path | None = None) -> str:
    """Console scripts live beside the interpreter (the venv's bin/); fall back to PATH."""
    bin_dir = bin_dir or Path(sys.executable).parent
    candidate = bin_dir / executable
    if candidate.exists():
        return str(candidate)
    found = shutil.which(executable)
    return found or str(candidate)


def load_stack(path: str | os.PathLike) -> Stack:
    """Load and validate a stack description; errors name the file and the key."""
    path = config_path(str(path)) if not Path(path).exists() else Path(path)
    root = Section(path, '', load_yaml(path))
    root.unknown_keys({'stack', 'env', 'nodes', 'banner', 'parameters'})
    env = _str_map(root, 'env')
    common_parameters = tuple(root.section('parameters', {}).data.items())
    nodes = []
    seen = set()
    for i, item in enumerate(root.list('nodes')):
        s = Section(path, f'nodes[{i}]', item)
        s.unknown_keys({'name', 'executable', 'params', 'namespace', 'remappings', 'parameters', 'args', 'env',
                        'ros', 'restart'})
        name = s.str('name')
        if not _NAME.match(name):
            raise s.error('name', f'"{name}" is not a valid ROS node name')
        if name in seen:
            raise s.error('name', f'duplicate node name "{name}"')
        seen.add(name)
        is_ros = s.bool('ros', True)
        params = []
        for j, p in enumerate(s.list('params', [])):
            if not isinstance(p, str):
                raise s.error(f'params[{j}]', 'expected a file name')
            resolved = config_path(p)
            if not resolved.is_file():
                raise s.error(f'params[{j}]', f'parameter file {resolved} does not exist')
            params.append(resolved)
        node_params = common_parameters + tuple(s.section('parameters', {}).data.items()) if is_ros else ()
        args = s.list('args', [])
        if not all(isinstance(a, (str, int, float)) for a in args):
            raise s.error('args', 'expected a list of strings')
        nodes.append(NodeSpec(
            name=name,
            executable=s.str('executable'),
            params=tuple(params),
            namespace=s.str('namespace', ''),
            remappings=tuple(_str_map(s, 'remappings').items()),
            parameters=node_params,
            args=tuple(str(a) for a in args),
            env=tuple(_str_map(s, 'env').items()),
            ros=is_ros,
            restart=s.bool('restart', True),
        ))
    if not nodes:
        raise root.error('nodes', 'a stack needs at least one node')
    return Stack(name=root.str('stack'), nodes=tuple(nodes), env=env, banner=root.str('banner', ''), path=path)


def _str_map(s: Section, key: str) -> dict[str, str]:
    sub = s.section(key, {})
    out = {}
    for k, v in sub.data.items():
        if not isinstance(v, (str, int, float, bool)):
            raise sub.error(str(k), 'expected a plain value')
        out[str(k)] = str(v)
    return out


def _ros_value(value: Any) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_ros_value(v) for v in value) + ']'
    return str(value)

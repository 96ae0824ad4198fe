"""Check Gazebo assets: ``ign sdf -k`` (sdformat's own validation) plus what sdformat lets through.

sdformat accepts unknown elements silently (a misspelled ``<max_step_sise>`` is simply ignored), so
:func:`unknown_elements` walks a document against the SDF spec that ``ign sdf -d`` prints and
reports every element the spec does not allow where it stands; plugin bodies are checked against the
parameters the Gazebo Harmonic systems we use document. Needs Debian's ``ignition-tools`` and
``libsdformat-dev`` (requirements/apt-sim.txt). No ROS import.
"""
from __future__ import annotations

from functools import cache
import shutil
import subprocess
import xml.etree.ElementTree as ET

SDF_VERSION = '1.9'

#: Elements Gazebo Harmonic reads although the SDF 1.9 spec does not list them.
GAZEBO_EXTENSIONS = {'sensor': {'gz_frame_id'}}

#: Parameters of the Gazebo Harmonic systems used by our world and robot (gz-sim 8 documentation).
PLUGIN_PARAMETERS = {
    'gz-sim-diff-drive-system': {
        'left_joint', 'right_joint', 'wheel_separation', 'wheel_radius', 'topic', 'odom_topic', 'tf_topic',
        'frame_id', 'child_frame_id', 'odom_publish_frequency', 'max_linear_acceleration',
        'min_linear_acceleration', 'max_angular_acceleration', 'min_angular_acceleration',
        'max_linear_velocity', 'min_linear_velocity', 'max_angular_velocity', 'min_angular_velocity',
        'max_linear_jerk', 'min_linear_jerk', 'max_angular_jerk', 'min_angular_jerk', 'wheel_separation_multiplier',
        'wheel_radius_multiplier'},
    'gz-sim-joint-state-publisher-system': {'joint_name', 'topic', 'update_rate'},
    'gz-sim-sensors-system': {'render_engine', 'background_color', 'ambient_light', 'disable_on_drained_battery'},
    'gz-sim-physics-system': {'engine', 'include_entity_names'},
    'gz-sim-user-commands-system': set(),
    'gz-sim-scene-broadcaster-system': {'dynamic_pose_hertz', 'state_hertz', 'state_topic'},
}


class SdfToolMissing(RuntimeError):
    """``ign`` (Debian ignition-tools + libsdformat-dev) is not installed."""


def _ign() -> str:
    ign = shutil.which('ign') or shutil.which('gz')
    if ign is None:
        raise SdfToolMissing('`ign` not found: install the Debian packages of requirements/apt-sim.txt')
    return ign


def sdformat_check(path: str) -> tuple[bool, str]:
    """Run ``ign sdf -k``: (valid, output)."""
    proc = subprocess.run([_ign(), 'sdf', '-k', str(path)], capture_output=True, text=True, timeout=120)
    out = '\n'.join(line for line in (proc.stdout + proc.stderr).splitlines() if 'backward' not in line)
    return proc.returncode == 0 and 'Valid' in out, out


def sdformat_print(path: str) -> str:
    """``ign sdf -p``: the document as sdformat reads it (URDF converted to SDF)."""
    proc = subprocess.run([_ign(), 'sdf', '-p', str(path)], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise ValueError(f'ign sdf -p {path} failed: {proc.stderr.strip()}')
    return proc.stdout


@cache
def spec_children() -> dict[str, frozenset[str]]:
    """Element name -> names of the child elements the spec allows anywhere it occurs."""
    proc = subprocess.run([_ign(), 'sdf', '-d', SDF_VERSION], capture_output=True, text=True, timeout=120)
    root = ET.fromstring(proc.stdout[proc.stdout.index('<element'):])
    children: dict[str, set[str]] = {}

    def walk(el: ET.Element) -> None:
        name = el.get('name')
        kids = children.setdefault(name, set())
        for child in el.findall('element'):
            kids.add(child.get('name'))
            walk(child)

    walk(root)
    return {k: frozenset(v) for k, v in children.items()}


def unknown_elements(sdf_text: str) -> list[str]:
    """Every element of an SDF document that the spec (or a known plugin) does not allow where it is."""
    spec = spec_children()
    problems: list[str] = []

    def walk(el: ET.Element, path: str) -> None:
        if el.tag == 'plugin':
            allowed = PLUGIN_PARAMETERS.get(el.get('filename', ''))
            if allowed is None:
                problems.append(f'{path}: unknown plugin {el.get("filename")!r}')
                return
            problems.extend(f'{path}/{c.tag}: not a parameter of {el.get("filename")}'
                            for c in el if c.tag not in allowed)
            return
        allowed = spec.get(el.tag, frozenset()) | GAZEBO_EXTENSIONS.get(el.tag, set())
        for child in el:
            if child.tag not in allowed:
                problems.append(f'{path}/{child.tag}: not allowed in <{el.tag}>')
            else:
                walk(child, f'{path}/{child.tag}')

    root = ET.fromstring(sdf_text)
    walk(root, root.tag)
    return problems

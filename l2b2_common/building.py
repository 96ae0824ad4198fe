"""One building setting: its name selects the map, the waypoints, the floor plan and the simulated worlds.

A city runs l2b2 in one building at a time (``buergerbuero``, ``rathaus_nord``, ...). Every consumer
(Nav2's map_server and amcl, the escort, the panel, the simulators) must read the same building's
files, or the escort would send one building's coordinates into another's map. So the files are
found here, by name, in one place; the launchers pass the resulting paths to every consumer.

Pure Python (no ROS): the launch files, ``l2b2-launch`` and the tests all call it.

>>> files = building_files('rathaus_nord')
>>> files.map_yaml.name, files.waypoints.name
('rathaus_nord.yaml', 'rathaus_nord_waypoints.yaml')
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import re

from l2b2_common.config import ConfigError, share_dir

#: The building a stack runs in when nothing else is said.
DEFAULT_BUILDING = 'buergerbuero'
_NAME = re.compile(r'^[a-z][a-z0-9_]*$')


@dataclass(frozen=True)
class BuildingFiles:
    """Absolute paths of one building's files. ``floorplan`` is the source the others are generated from."""

    name: str
    map_yaml: Path      # maps/<name>.yaml: Nav2 map_server, the sim navigator, the panel's map
    map_image: Path     # maps/<name>.pgm: the occupancy image map_yaml names
    waypoints: Path     # maps/<name>_waypoints.yaml: home and every target (escort, panel, amcl start)
    floorplan: Path     # maps/<name>.floor.yaml: l2b2-floorplan's source
    world_json: Path    # sim/worlds/<name>.world.json: the pybullet simulator
    world_sdf: Path     # sim/worlds/<name>.sdf: Gazebo

    def require(self, *kinds: str) -> BuildingFiles:
        """Fail with the building, the file and the way to make it when one of ``kinds`` is missing.

        A real building needs no simulated world, so the worlds are checked only by their users.
        """
        for kind in kinds:
            path = getattr(self, kind)
            if not path.is_file():
                raise ConfigError(path, '', f'file not found: building "{self.name}" has no {kind.replace("_", " ")} '
                                  f'(generate it: l2b2-floorplan generate maps/{self.name}.floor.yaml)')
        return self


def buildings(share: str | os.PathLike | None = None) -> list[str]:
    """Names of the buildings that have a map and waypoints."""
    maps = Path(share or share_dir()) / 'maps'
    return sorted(p.stem[:-len('_waypoints')] for p in maps.glob('*_waypoints.yaml')
                  if (maps / f'{p.stem[:-len("_waypoints")]}.yaml').is_file())


def building_paths(name: str, share: str | os.PathLike | None = None) -> BuildingFiles:
    """Where building ``name``'s files live (or will: l2b2-floorplan writes them here); nothing is checked
    but the name."""
    root = Path(share or share_dir())
    if not _NAME.match(name):
        raise ConfigError(root / 'maps', 'building',
                          f'"{name}" is not a building name (lower case letters, digits, _; a name, not a path)')
    maps, worlds = root / 'maps', root / 'sim' / 'worlds'
    return BuildingFiles(name=name, map_yaml=maps / f'{name}.yaml', map_image=maps / f'{name}.pgm',
                         waypoints=maps / f'{name}_waypoints.yaml', floorplan=maps / f'{name}.floor.yaml',
                         world_json=worlds / f'{name}.world.json', world_sdf=worlds / f'{name}.sdf')


def building_files(name: str = '', share: str | os.PathLike | None = None) -> BuildingFiles:
    """The files of building ``name`` ('' = :data:`DEFAULT_BUILDING`); its map and waypoints must exist.

    Raises :class:`ConfigError` naming the building setting and the buildings there are.
    """
    root = Path(share or share_dir())
    name = name or DEFAULT_BUILDING
    files = building_paths(name, root)
    if not files.map_yaml.is_file() or not files.waypoints.is_file():
        known = buildings(root)
        raise ConfigError(root / 'maps', 'building',
                          f'unknown building "{name}" (known: {", ".join(known) or "none"}; a building needs '
                          f'maps/{name}.yaml and maps/{name}_waypoints.yaml)')
    return files

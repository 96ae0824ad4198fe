"""Named places on the floor (map frame), generated from the floor plan: where the escort drives to.

``maps/buergerbuero_waypoints.yaml`` holds ``waypoints: {home: {x, y, yaw}, <target_id>: {...}}``.
Loading validates every entry, so a typo in a generated or hand-edited file fails at start-up with
the file and the key named, not halfway through an escort.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path

from l2b2_common.config import ConfigError, Section, load_yaml, share_dir

DEFAULT_FILE = 'maps/buergerbuero_waypoints.yaml'


@dataclass(frozen=True)
class Waypoint:
    """A pose in the map frame: metres and radians."""

    name: str
    x: float
    y: float
    yaw: float

    def distance_to(self, x: float, y: float) -> float:
        return math.hypot(self.x - x, self.y - y)


def waypoints_path(name: str | Path | None = None) -> Path:
    """An absolute path stays as it is; a relative one is under the share dir (source tree or install)."""
    path = Path(name or DEFAULT_FILE)
    return path if path.is_absolute() else share_dir() / path


def load_waypoints(path: str | Path | None = None) -> dict[str, Waypoint]:
    """Read and validate the waypoint file; raises ConfigError naming file, key and reason."""
    path = waypoints_path(path)
    root = Section(path, '', load_yaml(path))
    table = root.section('waypoints')
    if not table.data:
        raise table.error('', 'at least one waypoint is required')
    out: dict[str, Waypoint] = {}
    for name in table.data:
        entry = table.section(str(name))
        entry.unknown_keys({'x', 'y', 'yaw'})
        values = [entry.number(k) for k in ('x', 'y')] + [entry.number('yaw', 0.0)]
        if not all(math.isfinite(v) for v in values):
            raise entry.error('', 'x, y and yaw must be finite numbers')
        out[str(name)] = Waypoint(str(name), *values)
    return out


def require_waypoints(waypoints: dict[str, Waypoint], names: list[str], path: str | Path = '') -> None:
    """Fail loudly when a place the robot must reach (home, every catalog target) has no waypoint."""
    missing = [n for n in names if n not in waypoints]
    if missing:
        raise ConfigError(path or waypoints_path(), 'waypoints', f'missing waypoints for: {", ".join(missing)}')

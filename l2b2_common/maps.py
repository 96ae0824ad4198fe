"""Floor-plan files every node reads: Nav2 map_server maps (YAML + PGM) and the waypoint file.

One reader each, so the simulator, the stand-in navigator, the tracker, the escort and the panel see
the same grid and the same places. ``maps/<building>_waypoints.yaml`` holds
``waypoints: {home: {x, y, yaw}, <target_id>: {...}}``; loading validates every entry, so a typo fails
at start-up naming the file and the key, not halfway through an escort.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
import os
from pathlib import Path

import numpy as np
from pydantic import field_validator

from l2b2_common.config import ConfigError, StrictModel, load_model, load_yaml, share_dir

DEFAULT_WAYPOINTS = 'maps/buergerbuero_waypoints.yaml'


# ----------------------------------------------------------------------------------------------- maps
def read_pgm(path: str | os.PathLike) -> np.ndarray:
    """Binary (P5) or ASCII (P2) greymap, 8 bit, as a height x width array (row 0 = top of the picture)."""
    data = Path(path).read_bytes()
    tokens: list[bytes] = []
    pos = 0
    while len(tokens) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if pos >= len(data):
            raise ValueError(f'{path}: truncated PGM header')
        if data[pos:pos + 1] == b'#':
            pos = data.index(b'\n', pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        tokens.append(data[pos:end])
        pos = end
    magic, width, height, maxval = tokens[0], int(tokens[1]), int(tokens[2]), int(tokens[3])
    if maxval > 255:
        raise ValueError(f'{path}: only 8-bit PGM is supported')
    if magic == b'P5':
        pixels = np.frombuffer(data, dtype=np.uint8, count=width * height, offset=pos + 1)
    elif magic == b'P2':
        pixels = np.array(data[pos:].split()[:width * height], dtype=np.uint8)
    else:
        raise ValueError(f'{path}: not a PGM file')
    pixels = pixels.reshape(height, width)
    if maxval != 255:
        pixels = (pixels.astype(np.float64) * 255.0 / maxval).astype(np.uint8)
    return pixels


class _MapYaml(StrictModel):
    """The keys map_server reads (trinary mode)."""

    image: str
    resolution: float
    origin: list[float]
    negate: int = 0
    occupied_thresh: float = 0.65
    free_thresh: float = 0.25
    mode: str = 'trinary'

    @field_validator('origin')
    @classmethod
    def _three(cls, v: list[float]) -> list[float]:
        if len(v) != 3:
            raise ValueError('must be [x, y, yaw]')
        return v


@dataclass
class OccupancyMap:
    """An occupancy grid in the map frame, as nav_msgs/OccupancyGrid: row 0 is the lowest y.

    ``data`` holds 0 (free), 100 (occupied) and -1 (unknown) as int8.
    """

    data: np.ndarray
    resolution: float
    origin: tuple[float, float, float]
    source: str = ''

    @property
    def height(self) -> int:
        return int(self.data.shape[0])

    @property
    def width(self) -> int:
        return int(self.data.shape[1])

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> OccupancyMap:
        """Read a map_server map (``.yaml`` + ``.pgm``) the way map_server does in trinary mode."""
        path = Path(path)
        meta = load_model(path, _MapYaml)
        try:
            image = read_pgm(path.parent / meta.image)
        except (OSError, ValueError) as exc:
            raise ConfigError(path, 'image', f'cannot read {meta.image}: {exc}') from None
        occupancy = (255.0 - image.astype(np.float32)) / 255.0
        if meta.negate:
            occupancy = 1.0 - occupancy
        data = np.full(image.shape, -1, dtype=np.int8)
        data[occupancy > meta.occupied_thresh] = 100
        data[occupancy < meta.free_thresh] = 0
        # PGM row 0 is the top of the picture; the grid's row 0 is at the origin (bottom).
        return cls(np.flipud(data).copy(), meta.resolution, tuple(meta.origin), str(path.name))

    @classmethod
    def from_msg_fields(cls, width: int, height: int, resolution: float, origin: tuple[float, float, float],
                        data, source: str = '/map') -> OccupancyMap:
        """From a nav_msgs/OccupancyGrid's fields (values 0..100, -1 unknown)."""
        raw = np.asarray(data, dtype=np.int16).reshape(height, width)
        return cls(np.where(raw < 0, -1, np.clip(raw, 0, 100)).astype(np.int8), resolution, origin, source)

    def to_cell(self, x: float, y: float) -> tuple[int, int]:
        """(row, col) of the cell containing the point."""
        return (int(math.floor((y - self.origin[1]) / self.resolution)),
                int(math.floor((x - self.origin[0]) / self.resolution)))

    def to_point(self, row: int, col: int) -> tuple[float, float]:
        """The centre of a cell, in metres."""
        return (self.origin[0] + (col + 0.5) * self.resolution, self.origin[1] + (row + 0.5) * self.resolution)

    def contains(self, row: int, col: int) -> bool:
        return 0 <= row < self.height and 0 <= col < self.width


# ------------------------------------------------------------------------------------------ waypoints
@dataclass(frozen=True)
class Waypoint:
    """A named pose in the map frame: metres and radians."""

    name: str
    x: float
    y: float
    yaw: float

    def distance_to(self, x: float, y: float) -> float:
        return math.hypot(self.x - x, self.y - y)


class _WaypointEntry(StrictModel):
    x: float
    y: float
    yaw: float = 0.0

    @field_validator('x', 'y', 'yaw')
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError('must be a finite number')
        return v


class _WaypointFile(StrictModel):
    frame_id: str = 'map'
    waypoints: dict[str, _WaypointEntry]

    @field_validator('waypoints')
    @classmethod
    def _not_empty(cls, v: dict) -> dict:
        if not v:
            raise ValueError('at least one waypoint is required')
        return v


def waypoints_path(name: str | os.PathLike | None = None) -> Path:
    """An absolute path stays as it is; a relative one is under the share dir (source tree or install)."""
    path = Path(name or DEFAULT_WAYPOINTS)
    return path if path.is_absolute() else share_dir() / path


def load_waypoints(path: str | os.PathLike | None = None) -> dict[str, Waypoint]:
    """Read and validate the waypoint file; raises ConfigError naming file, key and reason."""
    path = waypoints_path(path)
    data = load_yaml(path)
    if isinstance(data, dict) and isinstance(data.get('waypoints'), dict):
        data = {**data, 'waypoints': {str(k): v for k, v in data['waypoints'].items()}}
    table = load_model(path, _WaypointFile, data=data).waypoints
    return {name: Waypoint(name, e.x, e.y, e.yaw) for name, e in table.items()}


def require_waypoints(waypoints: dict[str, Waypoint], names: list[str], path: str | os.PathLike = '') -> None:
    """Fail loudly when a place the robot must reach (home, every catalog target) has no waypoint."""
    missing = [n for n in names if n not in waypoints]
    if missing:
        raise ConfigError(path or waypoints_path(), 'waypoints', f'missing waypoints for: {", ".join(missing)}')

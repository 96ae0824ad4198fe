"""One readable floor-plan source (``maps/<name>.floor.yaml``) and the artefacts every consumer needs.

The source says what a building has (walls with their doors, counters, furniture, the rooms and the
named places the robot drives to); the generators beside this module turn it into the Nav2 map
(``floorplan_map``), the Gazebo world (``floorplan_sdf``), and here the simulator's world file and the
named waypoints. Everything is built from the same list of boxes, so the map, the Gazebo world and
the pybullet world cannot disagree. No ROS import: the generator runs anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
import json
import math
import os
from pathlib import Path
import re
from typing import Annotated

from pydantic import AfterValidator, Field
import yaml

from l2b2_common.config import ConfigError, StrictModel, load_model

_NAME = re.compile(r'^[a-z][a-z0-9_]*$')
#: Decimal places written to generated files: enough for 0.05 m cells, stable across platforms.
_DIGITS = 4
FLOOR_SUFFIX = '.floor.yaml'


@dataclass(frozen=True)
class Box:
    """An upright box standing on the floor: a wall piece, a counter or a piece of furniture."""

    name: str
    kind: str  # wall | counter | furniture
    cx: float
    cy: float
    length: float  # along yaw
    width: float
    height: float
    yaw: float = 0.0

    def corners(self) -> list[tuple[float, float]]:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        hl, hw = self.length / 2, self.width / 2
        return [(self.cx + c * dx - s * dy, self.cy + s * dx + c * dy)
                for dx, dy in ((-hl, -hw), (hl, -hw), (hl, hw), (-hl, hw))]


@dataclass(frozen=True)
class Place:
    """A named pose on the floor (map frame): home, entrance and every target of the catalog."""

    name: str
    x: float
    y: float
    yaw: float  # radians


@dataclass(frozen=True)
class Area:
    """A labelled region (room, waiting area): documentation and visual floor marks only."""

    name: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class FloorPlan:
    """A parsed floor plan: what every generator reads."""

    name: str
    title: str
    source: Path
    resolution: float
    margin: float
    outline: tuple[tuple[float, float], ...]
    boxes: tuple[Box, ...]
    areas: tuple[Area, ...]
    places: dict[str, Place]

    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the outline plus the margin."""
        xs = [p[0] for p in self.outline]
        ys = [p[1] for p in self.outline]
        m = self.margin
        return min(xs) - m, min(ys) - m, max(xs) + m, max(ys) + m


def _point(raw: list[float]) -> tuple[float, float]:
    if len(raw) != 2:
        raise ValueError(f'expected a point [x, y] in metres, got {raw!r:.40}')
    return float(raw[0]), float(raw[1])


def _rect(raw: list[float]) -> tuple[float, float, float, float]:
    if len(raw) != 4:
        raise ValueError('expected [x0, y0, x1, y1] in metres')
    x0, y0, x1, y1 = map(float, raw)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f'{raw} is empty: need x0 < x1 and y0 < y1')
    return x0, y0, x1, y1


Point = Annotated[list[float], AfterValidator(_point)]
Rect = Annotated[list[float], AfterValidator(_rect)]
Name = Annotated[str, AfterValidator(lambda v: v if _NAME.match(v) else _bad_name(v))]


def _bad_name(value: str) -> str:
    raise ValueError(f'{value!r} must be lower-case letters, digits and _')


class _Wall(StrictModel):
    thickness: float = Field(0.2, ge=0.05, le=2.0)
    height: float = Field(2.6, ge=0.5, le=10.0)


class _Door(StrictModel):
    name: str
    at: Point
    width: float = Field(ge=0.5, le=10.0)


class _Block(StrictModel):
    name: str
    rect: Rect
    height: float | None = Field(None, ge=0.05, le=10.0)


class _Area(StrictModel):
    name: str
    rect: Rect


class _Place(StrictModel):
    at: Point
    yaw: float = Field(0.0, ge=-360, le=360)


class _FloorPlanFile(StrictModel):
    name: Name
    title: str | None = None
    resolution: float = Field(0.05, ge=0.01, le=1.0)
    margin: float = Field(1.0, ge=0.0, le=10.0)
    wall: _Wall = _Wall()
    outline: list[Point]
    walls: list[list[Point]]
    doors: list[_Door] = []
    counters: list[_Block] = []
    furniture: list[_Block] = []
    areas: list[_Area] = []
    places: dict[Name, _Place]


def load_floorplan(path: str | os.PathLike) -> FloorPlan:
    """Parse and validate a floor-plan file; every error names the file and the key."""
    path = Path(path)
    f = load_model(path, _FloorPlanFile)
    if len(f.outline) < 3:
        raise ConfigError(path, 'outline', 'needs at least 3 corners')
    thickness, wall_height = f.wall.thickness, f.wall.height
    doors = [(d.name, _point(d.at), d.width) for d in f.doors]

    boxes: list[Box] = []
    used_doors: set[str] = set()
    for i, raw in enumerate(f.walls):
        if len(raw) < 2:
            raise ConfigError(path, f'walls[{i}]', 'a wall is a list of at least 2 points [x, y]')
        points = [_point(p) for p in raw]
        for j, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            pieces, hit = _cut_doors(a, b, thickness, doors)
            used_doors |= hit
            for k, (p, q) in enumerate(pieces):
                boxes.append(_wall_box(f'wall_{i}_{j}_{k}', p, q, thickness, wall_height))
    for door_name, _, _ in doors:
        if door_name not in used_doors:
            raise ConfigError(path, 'doors', f'door {door_name!r} does not lie on any wall')

    for kind, items in (('counter', f.counters), ('furniture', f.furniture)):
        for block in items:
            x0, y0, x1, y1 = _rect(block.rect)
            height = block.height if block.height is not None else (1.1 if kind == 'counter' else 0.45)
            boxes.append(Box(block.name, kind, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, height))

    areas = [Area(a.name, *_rect(a.rect)) for a in f.areas]
    places: dict[str, Place] = {}
    for pname, place in f.places.items():
        x, y = _point(place.at)
        yaw = math.radians(place.yaw)
        places[pname] = Place(pname, x, y, math.atan2(math.sin(yaw), math.cos(yaw)))
    for required in ('home', 'entrance'):
        if required not in places:
            raise ConfigError(path, f'places.{required}', 'required place is missing')

    return FloorPlan(name=f.name, title=f.title or f.name, source=path, resolution=f.resolution, margin=f.margin,
                     outline=tuple(_point(p) for p in f.outline), boxes=tuple(boxes), areas=tuple(areas),
                     places=places)


def _cut_doors(a, b, thickness, doors):
    """Split wall segment a-b at every door lying on it: the pieces that remain, and the doors used.

    A piece is (start point, end point, extend_start, extend_end): ends at the segment's own corners
    are extended by half the thickness so that corners close; ends at a door are not, so a door's
    ``width`` is its clear opening.
    """
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length = math.hypot(dx, dy)
    if length == 0:
        return [], set()
    ux, uy = dx / length, dy / length
    gaps, hit = [], set()
    for name, (px, py), width in doors:
        t = (px - ax) * ux + (py - ay) * uy
        off = abs(-(px - ax) * uy + (py - ay) * ux)
        if off <= thickness and -1e-9 <= t <= length + 1e-9:
            gaps.append((t - width / 2, t + width / 2))
            hit.add(name)
    spans, start = [], 0.0
    for g0, g1 in sorted(gaps):
        if g0 > start + 1e-9:
            spans.append((start, min(g0, length)))
        start = max(start, g1)
    if start < length - 1e-9:
        spans.append((start, length))
    pieces = []
    for s0, s1 in spans:
        if s1 - s0 <= 1e-6:
            continue
        ext0 = thickness / 2 if s0 <= 1e-9 else 0.0
        ext1 = thickness / 2 if s1 >= length - 1e-9 else 0.0
        pieces.append(((ax + ux * (s0 - ext0), ay + uy * (s0 - ext0)), (ax + ux * (s1 + ext1), ay + uy * (s1 + ext1))))
    return pieces, hit


def _wall_box(name, p, q, thickness, height) -> Box:
    length = math.hypot(q[0] - p[0], q[1] - p[1])
    yaw = math.atan2(q[1] - p[1], q[0] - p[0])
    return Box(name, 'wall', (p[0] + q[0]) / 2, (p[1] + q[1]) / 2, length, thickness, height, yaw)


def _r(v: float) -> float:
    v = round(v, _DIGITS)
    return 0.0 if v == 0 else v


def waypoints_yaml(plan: FloorPlan) -> str:
    """``maps/<name>_waypoints.yaml``: every place as {x, y, yaw} in the map frame."""
    body = {'frame_id': 'map',
            'waypoints': {p.name: {'x': _r(p.x), 'y': _r(p.y), 'yaw': _r(p.yaw)} for p in plan.places.values()}}
    return (f'# Generated by l2b2-floorplan from {plan.source.name}; do not edit (edit the floor plan).\n'
            + yaml.safe_dump(body, sort_keys=False, allow_unicode=True))


def world_json(plan: FloorPlan) -> str:
    """``sim/worlds/<name>.world.json``: the pybullet simulator's world (boxes, places, map bounds)."""
    xmin, ymin, xmax, ymax = plan.bounds()
    body = {
        'generator': f'l2b2-floorplan from {plan.source.name}; do not edit',
        'name': plan.name,
        'title': plan.title,
        'frame_id': 'map',
        'bounds': [_r(xmin), _r(ymin), _r(xmax), _r(ymax)],
        'outline': [[_r(x), _r(y)] for x, y in plan.outline],
        'boxes': [{'name': b.name, 'kind': b.kind, 'center': [_r(b.cx), _r(b.cy), _r(b.height / 2)],
                   'size': [_r(b.length), _r(b.width), _r(b.height)], 'yaw': _r(b.yaw)} for b in plan.boxes],
        'places': {p.name: {'x': _r(p.x), 'y': _r(p.y), 'yaw': _r(p.yaw)} for p in plan.places.values()},
    }
    return json.dumps(body, indent=1, ensure_ascii=False) + '\n'

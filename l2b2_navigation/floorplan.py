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

import yaml

from l2b2_common.config import ConfigError, Section, load_yaml

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


def load_floorplan(path: str | os.PathLike) -> FloorPlan:
    """Parse and validate a floor-plan file; every error names the file and the key."""
    path = Path(path)
    root = Section(path, '', load_yaml(path))
    root.unknown_keys({'name', 'title', 'resolution', 'margin', 'wall', 'outline', 'walls', 'doors',
                       'counters', 'furniture', 'areas', 'places'})
    name = root.str('name')
    if not _NAME.match(name):
        raise root.error('name', f'{name!r} must be lower-case letters, digits and _')
    resolution = root.number('resolution', 0.05, min=0.01, max=1.0)
    margin = root.number('margin', 1.0, min=0.0, max=10.0)
    wall = root.section('wall', {})
    wall.unknown_keys({'thickness', 'height'})
    thickness = wall.number('thickness', 0.2, min=0.05, max=2.0)
    wall_height = wall.number('height', 2.6, min=0.5, max=10.0)

    outline = tuple(_point(root, f'outline[{i}]', p) for i, p in enumerate(root.list('outline')))
    if len(outline) < 3:
        raise root.error('outline', 'needs at least 3 corners')

    doors = []
    for i, raw in enumerate(root.list('doors', [])):
        d = Section(path, f'doors[{i}]', raw)
        d.unknown_keys({'name', 'at', 'width'})
        doors.append((d.str('name'), _point(d, 'at', d.get('at', list)), d.number('width', min=0.5, max=10.0)))

    boxes: list[Box] = []
    used_doors: set[str] = set()
    for i, raw in enumerate(root.list('walls')):
        key = f'walls[{i}]'
        if not isinstance(raw, list) or len(raw) < 2:
            raise ConfigError(path, key, 'a wall is a list of at least 2 points [x, y]')
        points = [_point(root, f'{key}[{j}]', p) for j, p in enumerate(raw)]
        for j, (a, b) in enumerate(zip(points, points[1:], strict=False)):
            pieces, hit = _cut_doors(a, b, thickness, doors)
            used_doors |= hit
            for k, (p, q) in enumerate(pieces):
                boxes.append(_wall_box(f'wall_{i}_{j}_{k}', p, q, thickness, wall_height))
    for door_name, _, _ in doors:
        if door_name not in used_doors:
            raise ConfigError(path, 'doors', f'door {door_name!r} does not lie on any wall')

    for kind, key in (('counter', 'counters'), ('furniture', 'furniture')):
        for i, raw in enumerate(root.list(key, [])):
            s = Section(path, f'{key}[{i}]', raw)
            s.unknown_keys({'name', 'rect', 'height'})
            x0, y0, x1, y1 = _rect(s)
            boxes.append(Box(s.str('name'), kind, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0,
                             s.number('height', 1.1 if kind == 'counter' else 0.45, min=0.05, max=10.0)))

    areas = []
    for i, raw in enumerate(root.list('areas', [])):
        s = Section(path, f'areas[{i}]', raw)
        s.unknown_keys({'name', 'rect'})
        areas.append(Area(s.str('name'), *_rect(s)))

    places: dict[str, Place] = {}
    raw_places = root.section('places')
    for pname in raw_places.data:
        s = raw_places.section(str(pname))
        s.unknown_keys({'at', 'yaw'})
        if not _NAME.match(str(pname)):
            raise s.error('', 'place names are lower-case letters, digits and _')
        x, y = _point(s, 'at', s.get('at', list))
        yaw = math.radians(s.number('yaw', 0.0, min=-360, max=360))
        places[str(pname)] = Place(str(pname), x, y, math.atan2(math.sin(yaw), math.cos(yaw)))
    for required in ('home', 'entrance'):
        if required not in places:
            raise raw_places.error(required, 'required place is missing')

    return FloorPlan(name=name, title=root.str('title', name), source=path, resolution=resolution,
                     margin=margin, outline=outline, boxes=tuple(boxes), areas=tuple(areas), places=places)


def _point(section: Section, key: str, raw: object) -> tuple[float, float]:
    if (not isinstance(raw, list) or len(raw) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw)):
        raise section.error(key, f'expected a point [x, y] in metres, got {raw!r:.40}')
    return float(raw[0]), float(raw[1])


def _rect(s: Section) -> tuple[float, float, float, float]:
    raw = s.get('rect', list)
    if len(raw) != 4 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        raise s.error('rect', 'expected [x0, y0, x1, y1] in metres')
    x0, y0, x1, y1 = map(float, raw)
    if x1 <= x0 or y1 <= y0:
        raise s.error('rect', f'{raw} is empty: need x0 < x1 and y0 < y1')
    return x0, y0, x1, y1


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

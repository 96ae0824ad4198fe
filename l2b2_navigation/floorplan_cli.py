"""``l2b2-floorplan generate [--check] [FLOOR.yaml ...]``: every artefact from the floor-plan sources.

Outputs, byte-for-byte reproducible (checked in; ``--check`` exits 1 when any is stale):
``maps/<name>.pgm`` + ``maps/<name>.yaml`` (Nav2 map), ``maps/<name>_waypoints.yaml``,
``sim/worlds/<name>.sdf`` (Gazebo) and ``sim/worlds/<name>.world.json`` (pybullet simulator).
"""
from __future__ import annotations

import argparse
from pathlib import Path
import sys

from l2b2_common.building import building_paths
from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError, share_dir
from l2b2_navigation.floorplan import FLOOR_SUFFIX, FloorPlan, load_floorplan, waypoints_yaml, world_json
from l2b2_navigation.floorplan_map import map_yaml, pgm_bytes, rasterise
from l2b2_navigation.floorplan_sdf import world_sdf


def outputs(plan: FloorPlan, root: Path) -> dict[Path, bytes]:
    """Every generated file of one floor plan, by path: where the building setting finds them."""
    files = building_paths(plan.name, root)
    return {
        files.map_image: pgm_bytes(rasterise(plan)),
        files.map_yaml: map_yaml(plan).encode(),
        files.waypoints: waypoints_yaml(plan).encode(),
        files.world_sdf: world_sdf(plan).encode(),
        files.world_json: world_json(plan).encode(),
    }


def check_catalog(plan: FloorPlan) -> list[str]:
    """Target ids of config/departments.yaml whose waypoint the floor plan lacks."""
    return sorted(t.waypoint for t in load_catalog().targets.values() if t.waypoint not in plan.places)


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-floorplan', description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    gen = sub.add_parser('generate', help='write (or --check) the generated files of floor plans')
    gen.add_argument('floorplans', nargs='*', type=Path,
                     help=f'floor-plan files (default: every maps/*{FLOOR_SUFFIX})')
    gen.add_argument('--check', action='store_true', help='write nothing; exit 1 if any output is stale')
    gen.add_argument('--root', type=Path, default=None, help='where maps/ and sim/worlds/ are (default: the tree)')
    ns = parser.parse_args(args)

    root = ns.root or share_dir()
    files = ns.floorplans or sorted((root / 'maps').glob(f'*{FLOOR_SUFFIX}'))
    stale = []
    for path in files:
        try:
            plan = load_floorplan(path)
        except ConfigError as exc:
            print(f'l2b2-floorplan: {exc}', file=sys.stderr)
            return 2
        missing = check_catalog(plan)
        if missing:
            print(f'l2b2-floorplan: {path}: places: no place for catalog target(s) {", ".join(missing)}',
                  file=sys.stderr)
            return 2
        for out, data in outputs(plan, root).items():
            current = out.read_bytes() if out.exists() else None
            if current == data:
                continue
            if ns.check:
                stale.append(out)
            else:
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
                print(f'wrote {out.relative_to(root) if out.is_relative_to(root) else out}')
    if stale:
        for out in stale:
            print(f'stale: {out} (run: l2b2-floorplan generate)', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

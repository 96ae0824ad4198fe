"""One floor-plan source -> every artefact: up to date, reproducible, complete, and consistent."""
from __future__ import annotations

import math
from pathlib import Path
import shutil
import xml.etree.ElementTree as ET

import pytest
import yaml

from l2b2_common.catalog import load_catalog
from l2b2_common.config import REPO_ROOT, ConfigError
from l2b2_navigation.floorplan import load_floorplan
from l2b2_navigation.floorplan_cli import main as floorplan_main
from l2b2_navigation.floorplan_cli import outputs
from l2b2_sim.planner import Costmap, load_map, plan

BUILDINGS = ['buergerbuero', 'rathaus_nord']


def test_checked_in_outputs_are_up_to_date():
    assert floorplan_main(['generate', '--check']) == 0


def test_generation_is_reproducible_and_check_detects_stale_files(tmp_path):
    (tmp_path / 'maps').mkdir()
    source = tmp_path / 'maps' / 'buergerbuero.floor.yaml'
    shutil.copy(REPO_ROOT / 'maps' / 'buergerbuero.floor.yaml', source)
    assert floorplan_main(['generate', '--root', str(tmp_path), str(source)]) == 0
    first = {p: p.read_bytes() for p in outputs(load_floorplan(source), tmp_path)}
    assert floorplan_main(['generate', '--check', '--root', str(tmp_path), str(source)]) == 0
    for path, data in first.items():  # byte-for-byte the checked-in files
        assert data == (REPO_ROOT / path.relative_to(tmp_path)).read_bytes(), path.name
    source.write_text(source.read_text().replace('{name: infotheke, rect: [9, 2.5, 12, 3.3]',
                                                 '{name: infotheke, rect: [9, 2.5, 12.5, 3.3]'))
    assert floorplan_main(['generate', '--check', '--root', str(tmp_path), str(source)]) == 1


@pytest.mark.parametrize('building', BUILDINGS)
def test_every_catalog_target_has_a_reachable_waypoint(building):
    waypoints = yaml.safe_load((REPO_ROOT / 'maps' / f'{building}_waypoints.yaml').read_text())['waypoints']
    targets = [t.waypoint for t in load_catalog().targets.values()]
    assert set(targets) | {'home', 'entrance'} <= set(waypoints)
    costmap = Costmap(load_map(REPO_ROOT / 'maps' / f'{building}.yaml'))
    home = waypoints['home']
    for name in targets + ['entrance']:
        w = waypoints[name]
        result = plan(costmap, (home['x'], home['y']), (w['x'], w['y']))
        assert result.ok, f'{building}: {name}: {result.error}'
        assert abs(w['yaw']) <= math.pi + 1e-3


@pytest.mark.parametrize('building', BUILDINGS)
def test_map_sdf_and_sim_world_describe_the_same_building(building):
    plan_ = load_floorplan(REPO_ROOT / 'maps' / f'{building}.floor.yaml')
    meta = yaml.safe_load((REPO_ROOT / 'maps' / f'{building}.yaml').read_text())
    assert meta['resolution'] == 0.05 and meta['image'] == f'{building}.pgm'
    grid = load_map(REPO_ROOT / 'maps' / f'{building}.yaml')
    sdf = ET.parse(REPO_ROOT / 'sim' / 'worlds' / f'{building}.sdf').getroot()
    assert sdf.get('version') == '1.9'
    collisions = {c.get('name'): c for c in sdf.iter('collision') if c.get('name') != 'collision'}
    assert len(collisions) == len(plan_.boxes)
    for box in plan_.boxes:
        pose = [float(v) for v in collisions[f'{box.name}_collision'].find('pose').text.split()]
        assert pose[0] == pytest.approx(box.cx, abs=1e-3) and pose[1] == pytest.approx(box.cy, abs=1e-3)
        r, c = grid.to_cell(box.cx, box.cy)
        assert grid.data[r, c] == 100, f'{box.name} is not an obstacle on the map'
    for place in plan_.places.values():
        r, c = grid.to_cell(place.x, place.y)
        assert grid.data[r, c] == 0, f'{place.name} is not on free floor'


def test_errors_name_the_file_and_the_key(tmp_path):
    good = (REPO_ROOT / 'maps' / 'buergerbuero.floor.yaml').read_text()
    cases = {
        'walls:': ('wals:', 'wals'),
        '{name: tuer_wc, at: [5, 13.5], width: 1.6}': ('{name: tuer_wc, at: [7, 13.5], width: 1.6}', 'tuer_wc'),
        '{name: infotheke, rect: [9, 2.5, 12, 3.3]': ('{name: infotheke, rect: [12, 2.5, 9, 3.3]', 'counters[8].rect'),
        'home: {at: [6, 4], yaw: -90}': ('home: {at: [6], yaw: -90}', 'places.home.at'),
    }
    for original, (broken, key) in cases.items():
        path = tmp_path / 'broken.floor.yaml'
        path.write_text(good.replace(original, broken))
        with pytest.raises(ConfigError) as err:
            load_floorplan(path)
        assert str(path) in str(err.value) and key in str(err.value)


def test_cli_refuses_a_floor_plan_missing_a_catalog_target(tmp_path, capsys):
    text = (REPO_ROOT / 'maps' / 'rathaus_nord.floor.yaml').read_text()
    path = Path(tmp_path) / 'small.floor.yaml'
    path.write_text(text.replace('  kasse: {at: [21, 4], yaw: -90}\n', ''))
    assert floorplan_main(['generate', '--check', '--root', str(tmp_path), str(path)]) == 2
    assert 'kasse' in capsys.readouterr().err

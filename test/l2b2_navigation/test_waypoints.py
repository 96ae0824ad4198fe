"""Waypoint files are validated on load: errors name the file and the key."""
from __future__ import annotations

import pytest

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError
from l2b2_common.maps import load_waypoints, require_waypoints, waypoints_path


def test_valid_file_loads(tmp_path):
    path = tmp_path / 'w.yaml'
    path.write_text('waypoints:\n  home: {x: 1, y: 2.5}\n  wc: {x: -3.0, y: 4, yaw: 1.57}\n')
    wps = load_waypoints(path)
    assert wps['home'].x == 1.0 and wps['home'].yaw == 0.0 and wps['wc'].yaw == 1.57


@pytest.mark.parametrize(('text', 'key'), [
    ('waypoints:\n  home: {x: 1}\n', 'waypoints.home.y'),
    ('waypoints:\n  home: {x: 1, y: 2, z: 3}\n', 'waypoints.home.z'),
    ('waypoints:\n  home: {x: one, y: 2}\n', 'waypoints.home.x'),
    ('other: {}\n', 'other'),  # the unknown key is named, not the key it leaves missing
])
def test_bad_entries_name_the_key(tmp_path, text, key):
    path = tmp_path / 'w.yaml'
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_waypoints(path)
    assert err.value.key == key and str(path) in str(err.value)


def test_missing_waypoints_are_listed(tmp_path):
    path = tmp_path / 'w.yaml'
    path.write_text('waypoints:\n  home: {x: 0, y: 0}\n')
    with pytest.raises(ConfigError, match='missing waypoints for: wc, info'):
        require_waypoints(load_waypoints(path), ['home', 'wc', 'info'], path)


def test_generated_floor_waypoints_cover_home_and_every_catalog_target():
    path = waypoints_path()
    if not path.exists():
        pytest.fail(f'{path} is missing: generate it with l2b2-floorplan')
    catalog = load_catalog()
    require_waypoints(load_waypoints(path), [catalog.home_waypoint] + [t.waypoint for t in catalog.targets.values()])

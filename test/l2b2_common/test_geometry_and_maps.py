"""Shared geometry, frames and floor-plan files: one implementation each, checked once here."""
from __future__ import annotations

import math

import numpy as np
import pytest

from l2b2_common.config import ConfigError
from l2b2_common.frames import FrameTree
from l2b2_common.geometry import (
    Pose2D,
    quaternion_from_yaw,
    quaternion_msg_fields,
    wrap_angle,
    yaw_from_quaternion,
)
from l2b2_common.maps import OccupancyMap, load_waypoints, read_pgm, require_waypoints

ROOT = __import__('pathlib').Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('yaw', [0.0, 0.5, -1.2, math.pi - 1e-6, -math.pi + 1e-6, 3.0])
def test_yaw_quaternion_round_trip(yaw):
    assert yaw_from_quaternion(*quaternion_from_yaw(yaw)) == pytest.approx(yaw)
    q = quaternion_msg_fields(yaw)
    assert math.isclose(q['x'] ** 2 + q['y'] ** 2 + q['z'] ** 2 + q['w'] ** 2, 1.0)


def test_wrap_angle():
    assert wrap_angle(3 * math.pi / 2) == pytest.approx(-math.pi / 2)
    assert wrap_angle(-3 * math.pi / 2) == pytest.approx(math.pi / 2)


def test_pose_compose_inverse_and_points():
    a = Pose2D(1.0, 2.0, math.pi / 2)
    b = Pose2D(0.5, 0.0, 0.0)
    c = a.compose(b)
    assert (c.x, c.y) == pytest.approx((1.0, 2.5)) and c.yaw == pytest.approx(math.pi / 2)
    ident = a.compose(a.inverse())
    assert (ident.x, ident.y, ident.yaw) == pytest.approx((0.0, 0.0, 0.0), abs=1e-9)
    assert a.apply(np.array([[0.5, 0.0]]))[0] == pytest.approx([1.0, 2.5])
    assert a.to_local(1.0, 2.5) == pytest.approx((0.5, 0.0))
    assert a.distance_to(4.0, 6.0) == pytest.approx(5.0)
    assert Pose2D(1.23456, 0, 0).as_dict() == {'x': 1.235, 'y': 0.0, 'yaw': 0.0}


def test_frame_tree_chains_and_picks_the_stamp():
    tree = FrameTree()
    tree.set('map', 'odom', Pose2D(1.0, 0.0, 0.0), 0.0)
    tree.set('odom', 'base_link', Pose2D(0.0, 0.0, 0.0), 1.0)
    tree.set('odom', 'base_link', Pose2D(2.0, 0.0, 0.0), 2.0)
    tree.set('/base_link', 'laser', Pose2D(0.1, 0.0, 0.0), 0.0)
    assert tree.lookup('map', 'laser').x == pytest.approx(3.1)
    assert tree.lookup('map', 'laser', stamp=1.1).x == pytest.approx(1.1)
    assert tree.latest_stamp('base_link') == 2.0
    assert tree.lookup('map', 'nowhere') is None


def test_occupancy_map_reads_the_generated_map():
    grid = OccupancyMap.from_yaml(ROOT / 'maps' / 'buergerbuero.yaml')
    assert grid.data.dtype == np.int8 and set(np.unique(grid.data)) <= {-1, 0, 100}
    assert (grid.data == 100).any() and (grid.data == 0).any()
    home = load_waypoints(ROOT / 'maps' / 'buergerbuero_waypoints.yaml')['home']
    row, col = grid.to_cell(home.x, home.y)
    assert grid.contains(row, col) and grid.data[row, col] == 0, 'home is on free floor'
    x, y = grid.to_point(row, col)
    assert abs(x - home.x) <= grid.resolution and abs(y - home.y) <= grid.resolution


def test_pgm_ascii_and_binary_agree(tmp_path):
    pixels = np.array([[0, 255, 128], [10, 20, 30]], dtype=np.uint8)
    (tmp_path / 'b.pgm').write_bytes(b'P5\n# comment\n3 2\n255\n' + pixels.tobytes())
    (tmp_path / 'a.pgm').write_text('P2\n3 2\n255\n' + ' '.join(map(str, pixels.ravel())) + '\n')
    assert (read_pgm(tmp_path / 'a.pgm') == pixels).all()
    assert (read_pgm(tmp_path / 'b.pgm') == pixels).all()


def test_map_yaml_errors_name_file_and_key(tmp_path):
    bad = tmp_path / 'm.yaml'
    bad.write_text('image: m.pgm\nresolution: 0.05\norigin: [0, 0]\n')
    with pytest.raises(ConfigError, match=r'm\.yaml: origin: must be \[x, y, yaw\]'):
        OccupancyMap.from_yaml(bad)
    bad.write_text('image: missing.pgm\nresolution: 0.05\norigin: [0, 0, 0]\n')
    with pytest.raises(ConfigError, match='image: cannot read missing.pgm'):
        OccupancyMap.from_yaml(bad)


def test_waypoint_file_errors(tmp_path):
    path = tmp_path / 'w.yaml'
    path.write_text('waypoints:\n  home: {x: 1, y: 2, yw: 0}\n')
    with pytest.raises(ConfigError, match=r'w\.yaml: waypoints\.home\.yw: unknown key \(allowed: x, y, yaw\)'):
        load_waypoints(path)
    path.write_text('waypoints:\n  home: {x: .nan, y: 2}\n')
    with pytest.raises(ConfigError, match='waypoints.home.x: must be a finite number'):
        load_waypoints(path)
    path.write_text('waypoints: {}\n')
    with pytest.raises(ConfigError, match='at least one waypoint'):
        load_waypoints(path)
    path.write_text('waypoints:\n  home: {x: 1, y: 2}\n')
    with pytest.raises(ConfigError, match='missing waypoints for: wc'):
        require_waypoints(load_waypoints(path), ['home', 'wc'], path)


def test_frame_tree_full_history_takes_late_stamps():
    """A slightly late stamp arriving when the history is full must not raise (a deque at its maximum
    size refuses insert); one older than everything kept is dropped."""
    tree = FrameTree(history=3)
    for stamp in (1.0, 1.2, 1.4):
        tree.set('odom', 'base_link', Pose2D(stamp, 0.0, 0.0), stamp)
    tree.set('odom', 'base_link', Pose2D(1.3, 0.0, 0.0), 1.3)
    assert tree.lookup('odom', 'base_link', stamp=1.31).x == pytest.approx(1.3)
    tree.set('odom', 'base_link', Pose2D(1.05, 0.0, 0.0), 1.05)  # older than the history kept: ignored
    assert tree.lookup('odom', 'base_link', stamp=1.0).x == pytest.approx(1.2)
    assert tree.latest_stamp('base_link') == 1.4

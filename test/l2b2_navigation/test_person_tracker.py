"""The pure person tracker: legs and bodies found in a scan, walls ignored, ids kept over time."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np

from l2b2_common.frames import FrameTree
from l2b2_common.geometry import Pose2D
from l2b2_navigation.person_tracker import (
    APPROACHED,
    LEFT,
    DetectorConfig,
    PersonTracker,
    ProximityMonitor,
    StaticMap,
    detect_people,
)

_spec = importlib.util.spec_from_file_location('l2b2_nav_scan_scenes', Path(__file__).with_name('scan_scenes.py'))
scenes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenes)

CONFIG = DetectorConfig()


def detect(circles, walls=()):
    ranges, amin, ainc = scenes.render_scan(circles, walls)
    return detect_people(ranges, amin, ainc, 0.05, 12.0, CONFIG)


def test_two_legs_are_one_person_at_its_centre():
    found = detect(scenes.person(2.0, 0.5))
    assert found.shape == (1, 2)
    assert np.hypot(*(found[0] - [2.0, 0.5])) < 0.1


def test_body_cylinder_is_a_person_and_walls_are_not():
    walls = [(-3, 3, 6, 3), (6, 3, 6, -3), (-3, -2.5, 6, -2.5)]
    found = detect(scenes.person(1.5, -1.0, legs=False) + scenes.person(3.0, 1.5), walls)
    assert len(found) == 2
    for truth in ([1.5, -1.0], [3.0, 1.5]):
        assert min(np.hypot(*(f - truth)) for f in found) < 0.12


def test_people_are_found_out_to_max_range_with_the_robots_one_degree_lidar():
    """Beams 1° apart are 0.14-0.17 m apart at 8-10 m: the segment threshold grows with range."""
    far = DetectorConfig(max_range=10.5)
    rng = np.random.default_rng(3)
    for distance, bearing in ((8.0, 0.3), (9.0, -2.0), (10.0, 2.6)):
        x, y = distance * math.cos(bearing), distance * math.sin(bearing)
        ranges, amin, ainc = scenes.render_scan(scenes.person(x, y, legs=False), beams=360)
        noisy = np.asarray(ranges) + rng.normal(0.0, 0.01, len(ranges))  # the simulated lidar's noise
        found = detect_people(noisy, amin, ainc, 0.05, 12.0, far)
        assert len(found) == 1, f'{distance} m: {found}'
        assert np.hypot(*(found[0] - [x, y])) < 0.2
        # A fixed 0.12 m jump cuts the person into single points there: nobody would be found.
        fixed = DetectorConfig(max_range=10.5, segment_jump_beams=0.0)
        assert len(detect_people(noisy, amin, ainc, 0.05, 12.0, fixed)) == 0


def test_the_range_dependent_jump_keeps_near_people_apart_from_walls():
    walls = [(-3, 3, 9, 3), (9, 3, 9, -3), (-3, -2.5, 9, -2.5)]
    ranges, amin, ainc = scenes.render_scan(scenes.person(7.5, 1.0, legs=False) + scenes.person(2.0, -1.0),
                                            walls, beams=360)
    found = detect_people(ranges, amin, ainc, 0.05, 12.0, DetectorConfig(max_range=10.5))
    assert len(found) == 2
    for truth in ([7.5, 1.0], [2.0, -1.0]):
        assert min(np.hypot(*(f - truth)) for f in found) < 0.2


def test_static_map_drops_candidates_next_to_walls():
    occupied = np.zeros((100, 100), dtype=bool)
    occupied[:, 50] = True  # a wall along x = 2.5 m (0.05 m cells, origin 0,0)
    static = StaticMap(occupied, 0.05, 0.0, 0.0)
    clear = static.clearance(np.array([[2.5, 1.0], [1.0, 1.0], [-5.0, 0.0]]))
    assert clear[0] < 0.05 and clear[1] > 1.4 and clear[2] == 0.0


def test_tracks_keep_their_ids_while_people_walk_and_cross():
    tracker = PersonTracker()
    ids_seen = {}
    for step in range(40):
        t = step * 0.1
        a, b = (1.0 + 0.8 * t, 1.0), (4.0 - 0.8 * t, -0.5)  # walking towards each other, 1.5 m apart sideways
        tracks = tracker.update(t, detect(scenes.person(*a) + scenes.person(*b)))
        if step >= 3:
            assert len(tracks) == 2
            for track in tracks:
                near = 'a' if math.dist(track.position, a) < math.dist(track.position, b) else 'b'
                ids_seen.setdefault(near, set()).add(track.id)
                assert min(math.dist(track.position, a), math.dist(track.position, b)) < 0.15
    assert len(ids_seen['a']) == 1 and len(ids_seen['b']) == 1 and ids_seen['a'] != ids_seen['b']
    moving = max(tracks, key=lambda tr: tr.velocity[0])
    assert abs(moving.velocity[0] - 0.8) < 0.2


def test_track_is_dropped_after_missing_and_needs_hits_to_appear():
    tracker = PersonTracker()
    assert tracker.update(0.0, np.array([[1.0, 1.0]])) == []
    tracker.update(0.1, np.array([[1.0, 1.0]]))
    assert len(tracker.update(0.2, np.array([[1.0, 1.0]]))) == 1
    assert len(tracker.update(0.8, np.empty((0, 2)))) == 1
    assert tracker.update(1.5, np.empty((0, 2))) == []


def test_proximity_events_with_hysteresis():
    monitor = ProximityMonitor(greeting_distance=1.5, leave_margin=0.5)
    assert monitor.update(0, 0, [(1, 3.0, 0.0)]) == []
    assert monitor.update(0, 0, [(1, 1.4, 0.0)]) == [(APPROACHED, 1, 1.4)]
    assert monitor.update(0, 0, [(1, 1.8, 0.0)]) == []
    assert [e[:2] for e in monitor.update(0, 0, [(1, 2.1, 0.0)])] == [(LEFT, 1)]
    monitor.update(0, 0, [(2, 1.0, 0.0)])
    assert [e[:2] for e in monitor.update(0, 0, [])] == [(LEFT, 2)]


def test_frame_tree_chains_map_odom_base_laser():
    frames = FrameTree()
    frames.set('map', 'odom', Pose2D(1.0, 0.0, 0.0))
    frames.set('odom', 'base_link', Pose2D(0.0, 2.0, math.pi / 2))
    frames.set('base_link', 'laser', Pose2D(0.2, 0.0, 0.0))
    laser = frames.lookup('map', 'laser')
    assert math.isclose(laser.x, 1.0, abs_tol=1e-9) and math.isclose(laser.y, 2.2, abs_tol=1e-9)
    assert math.isclose(laser.yaw, math.pi / 2)
    back = frames.lookup('laser', 'map').compose(laser)
    assert abs(back.x) < 1e-9 and abs(back.y) < 1e-9
    assert frames.lookup('map', 'nowhere') is None

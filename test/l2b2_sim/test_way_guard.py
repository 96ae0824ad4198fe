"""The stand-in navigator's rules without a graph: speed limit, blocked way, re-plan, give up; obstacle marks."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from l2b2_common.geometry import Pose2D
from l2b2_common.maps import OccupancyMap
from l2b2_sim.obstacles import ObstacleLayer, ObstacleParams
from l2b2_sim.way_guard import MIN_CREEP_SPEED, GuardParams, WayGuard

PARAMS = GuardParams(stop_distance=0.45, max_linear_decel=1.0, reaction_time_s=0.2, replan_after_blocked_s=2.0,
                     blocked_timeout_s=10.0)


def guard():
    return WayGuard(PARAMS, robot_radius=0.4, max_linear_speed=0.8)


def test_free_way_drives_at_the_asked_speed_and_slows_toward_a_person_on_the_same_curve():
    g = guard()
    assert g.step(0.0, 0.8, 0.2, []).v == 0.8
    assert g.reach == pytest.approx(0.4 + 0.45 + 0.8 * 0.2 + 0.64 / 2.0 + 0.2)
    step = g.step(0.1, 0.8, 0.2, [(1.1, 0.0)])  # 0.7 m free: 0.25 m beyond the stop distance
    assert 0.0 < step.v < 0.8 and step.w == pytest.approx(0.2 * step.v / 0.8)
    assert g.step(0.2, 0.8, 0.0, [(1.6, 0.9)]).v == 0.8  # beside the corridor: no matter
    assert g.step(0.3, 0.0, 1.0, [(0.5, 0.0)]) == g.step(0.3, 0.0, 1.0, [])  # turning on the spot is allowed


def test_blocked_way_stops_replans_every_interval_and_gives_up():
    g = guard()
    person = [(0.8, 0.0)]  # 0.4 m ahead of the footprint: inside the stop distance
    assert g.speed_limit(person) < MIN_CREEP_SPEED
    first = g.step(0.0, 0.8, 0.1, person)
    assert (first.v, first.w, first.blocked_now, first.replan) == (0.0, 0.0, True, False)
    assert not g.step(1.9, 0.8, 0.1, person).replan
    assert g.step(2.0, 0.8, 0.1, person).replan and g.recoveries == 1
    assert not g.step(3.0, 0.8, 0.1, person).replan  # not again before another interval
    assert g.step(4.0, 0.8, 0.1, person).replan and g.recoveries == 2
    assert g.step(10.0, 0.8, 0.1, person).abort == ''
    assert g.step(10.1, 0.8, 0.1, person).abort == 'way blocked for 10 s'


def test_the_way_clearing_resets_the_wait():
    g = guard()
    g.step(0.0, 0.8, 0.0, [(0.8, 0.0)])
    cleared = g.step(1.0, 0.8, 0.0, [])
    assert cleared.cleared_now and cleared.v == 0.8 and g.blocked_since is None
    assert g.step(1.5, 0.8, 0.0, [(0.8, 0.0)]).blocked_now
    assert not g.step(11.4, 0.8, 0.0, [(0.8, 0.0)]).abort  # 10.4 s since first blocked, 9.9 s since the wait began
    assert g.step(11.6, 0.8, 0.0, [(0.8, 0.0)]).abort


def _hall(size_m=20.0, res=0.05):
    n = int(size_m / res)
    data = np.zeros((n, n), dtype=np.int8)
    data[0, :] = data[-1, :] = data[:, 0] = data[:, -1] = 100
    grid = OccupancyMap(data, res, (0.0, 0.0, 0.0))
    # As the navigator: cells within 0.2 m of the map's own walls are those walls, never marks.
    static = ndimage.distance_transform_edt(data == 0) * res <= 0.2
    return grid, static


def _scan(robot, person=None, beams=360, range_max=12.0, wall=None):
    """A 360° scan from ``robot`` in an open hall: a person (disc r=0.2) and otherwise no return (inf)."""
    angles = -math.pi + np.arange(beams) * (2 * math.pi / beams)
    ranges = np.full(beams, np.inf)
    if wall is not None:
        ranges[:] = wall
    if person is not None:
        px, py = person[0] - robot.x, person[1] - robot.y
        for i, a in enumerate(angles):
            b = px * math.cos(a) + py * math.sin(a)
            disc = b * b - (px * px + py * py - 0.04)
            if disc >= 0 and b - math.sqrt(disc) > 0:
                ranges[i] = min(ranges[i], b - math.sqrt(disc))
    return ranges.tolist(), float(angles[0]), 2 * math.pi / beams, 0.1, range_max


def test_a_mark_left_by_a_person_is_cleared_when_the_ray_later_reads_inf():
    grid, static = _hall()
    robot, person = Pose2D(10.0, 10.0, 0.0), (11.5, 10.0)
    layer = ObstacleLayer(grid, static, ObstacleParams(obstacle_range=3.0, raytrace_range=3.5))
    layer.update(robot, *_scan(robot, person))
    assert layer.points_near(*person, 0.3), 'the person is marked'
    assert not layer.points_near(10.0, 10.0, 1.0)
    layer.update(robot, *_scan(robot))  # the person walked off: nothing behind them within range (inf)
    assert not layer.points_near(*person, 0.5)
    assert not layer.marked.any()


def test_without_inf_is_valid_the_ghost_stays_and_a_wall_behind_clears_it_anyway():
    grid, static = _hall()
    robot, person = Pose2D(10.0, 10.0, 0.0), (11.5, 10.0)
    stale = ObstacleLayer(grid, static, ObstacleParams(inf_is_valid=False))
    stale.update(robot, *_scan(robot, person))
    stale.update(robot, *_scan(robot))
    assert stale.points_near(*person, 0.3), 'Nav2 with inf_is_valid false: the mark is never cleared'
    stale.update(robot, *_scan(robot, wall=2.5))  # something 2.5 m away all round: its rays clear the way
    assert not stale.points_near(*person, 0.3)


def test_marks_stay_where_rays_do_not_reach_and_walls_are_never_marked():
    grid, static = _hall()
    layer = ObstacleLayer(grid, static, ObstacleParams(obstacle_range=3.0, raytrace_range=3.5))
    robot = Pose2D(10.0, 10.0, 0.0)
    layer.update(robot, *_scan(robot, (12.0, 10.0)))
    layer.update(robot, *_scan(robot, (11.0, 10.0)))  # now nearer: the earlier mark is in its shadow
    assert layer.points_near(12.0, 10.0, 0.3) and layer.points_near(11.0, 10.0, 0.3)
    near_wall = Pose2D(1.5, 10.0, 0.0)
    ranges, amin, ainc, rmin, rmax = _scan(near_wall)
    for i in range(len(ranges)):  # the hall's wall (x = 0 .. 0.05) seen behind the robot
        a = amin + i * ainc
        if math.cos(a) < -0.9:
            ranges[i] = (near_wall.x - 0.05) / -math.cos(a)
    layer.clear()
    layer.update(near_wall, ranges, amin, ainc, rmin, rmax)
    assert not layer.marked.any()

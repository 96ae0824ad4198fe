"""The simulator's and navigator's pure pieces: drive limits, visitors, planner, path follower, world."""
from __future__ import annotations

import math

import numpy as np
import pytest

from l2b2_common.geometry import Pose2D
from l2b2_common.maps import OccupancyMap
from l2b2_sim.diff_drive import DiffDrive, DriveLimits
from l2b2_sim.follower import FollowerParams, PathFollower, clearance_ahead, stopping_speed
from l2b2_sim.planner import Costmap, CostParams, load_map, plan, shortest_grid_path_length
from l2b2_sim.visitors import Crowd
from l2b2_sim.world import SimWorld, WorldConfig, map_file


def _open_room(size=200, res=0.05) -> OccupancyMap:
    data = np.zeros((size, size), dtype=np.int8)
    data[0, :] = data[-1, :] = data[:, 0] = data[:, -1] = 100
    return OccupancyMap(data, res, (0.0, 0.0, 0.0))


def test_diff_drive_respects_speed_and_acceleration_limits_and_watchdog():
    drive = DiffDrive(DriveLimits(max_linear_speed=0.8, linear_accel=1.0, cmd_timeout_s=0.5))
    drive.command(5.0, 0.0, now=0.0)
    t = 0.0
    for _ in range(10):
        t += 0.02
        drive.accept(*drive.propose(0.02, t))
    assert drive.v == pytest.approx(0.2)  # ramped, not jumped
    for _ in range(100):
        t += 0.02
        drive.accept(*drive.propose(0.02, t))
    assert drive.v == 0.0  # no command for > 0.5 s: the base stopped itself
    assert 0.2 < drive.pose.x < 0.3  # ramped up for 0.5 s, then down


def test_follower_visitor_walks_the_robot_track_at_a_distance():
    crowd = Crowd(lambda s, g: [s, g], (0.0, 0.0))
    v = crowd.spawn(0.0, 0.0)
    robot = [1.5, 0.0, 0.0]
    crowd.set_behaviour(v.id, 'follow', tuple(robot))
    for _ in range(200):  # the robot drives 8 m east at 0.8 m/s
        robot[0] += 0.04
        crowd.step(0.05, tuple(robot))
    gap = robot[0] - v.x
    assert gap == pytest.approx(v.follow_distance, abs=0.1)
    assert abs(v.y) < 1e-6


def test_dawdling_visitor_falls_behind_and_a_stopped_one_stays():
    crowd = Crowd(lambda s, g: [s, g], (0.0, 0.0))
    dawdler, stopper = crowd.spawn(0.0, 0.0), crowd.spawn(0.0, 1.0)
    robot = (1.5, 0.0, 0.0)
    crowd.set_behaviour(dawdler.id, 'dawdle', robot)
    crowd.set_behaviour(stopper.id, 'stop', robot)
    x = 1.5
    for _ in range(300):
        x += 0.04
        crowd.step(0.05, (x, 0.0, 0.0))
    assert x - dawdler.x > 4.0
    assert (stopper.x, stopper.y) == (0.0, 1.0)
    with pytest.raises(ValueError, match='unknown behaviour'):
        crowd.set_behaviour(stopper.id, 'dance', robot)
    crowd.set_behaviour(stopper.id, 'remove', robot)
    assert stopper.id not in crowd.visitors


def test_leaving_visitor_walks_to_the_exit_and_disappears():
    costmap = Costmap(_open_room(), CostParams(robot_radius=0.25, inflation_radius=0.5))
    crowd = Crowd(lambda s, g: plan(costmap, s, g).path, (1.0, 1.0))
    v = crowd.spawn(8.0, 8.0)
    crowd.set_behaviour(v.id, 'leave', (5.0, 5.0, 0.0), speed=1.0)
    for _ in range(400):
        crowd.step(0.05, (5.0, 2.0, 0.0))
    assert v.id not in crowd.visitors and v.gone


def test_planner_aborts_reasons_and_finds_short_paths():
    grid = _open_room()
    grid.data[:, 100] = 100  # a wall splitting the room...
    costmap = Costmap(grid, CostParams(robot_radius=0.4))
    assert plan(costmap, (2.0, 5.0), (8.0, 5.0)).error == 'no path to the goal'
    assert 'obstacle' in plan(costmap, (2.0, 5.0), (5.02, 5.0)).error
    assert 'outside' in plan(costmap, (2.0, 5.0), (50.0, 5.0)).error
    grid.data[90:110, 100] = 0  # ...with a 1 m door
    costmap = Costmap(grid, CostParams(robot_radius=0.4))
    result = plan(costmap, (2.0, 2.0), (8.0, 8.0))
    assert result.ok and result.path[-1] == (8.0, 8.0)
    shortest = shortest_grid_path_length(grid, 0.4, (2.0, 2.0), (8.0, 8.0))
    assert shortest <= result.length <= 1.15 * shortest


def test_pure_pursuit_reaches_the_goal_pose():
    path = [(x * 0.05, 0.0) for x in range(101)] + [(5.0, y * 0.05) for y in range(1, 61)]
    follower = PathFollower(path, math.pi / 2, FollowerParams())
    drive = DiffDrive(DriveLimits(max_angular_speed=1.2), Pose2D(0.0, 0.0, 0.0))
    t = 0.0
    for _ in range(400):
        cmd = follower.update(drive.pose)
        if cmd.done:
            break
        drive.command(cmd.v, cmd.w, t)
        for _ in range(5):
            t += 0.02
            drive.accept(*drive.propose(0.02, t))
    assert cmd.done
    assert math.dist((drive.pose.x, drive.pose.y), (5.0, 3.0)) <= 0.25


def test_the_robot_slows_toward_what_is_ahead_and_can_always_stop_in_time():
    assert clearance_ahead([(1.7, 0.1), (1.2, 0.8), (-0.7, 0.0)], 0.4) == pytest.approx(1.3)
    assert clearance_ahead([(1.2, 0.8), (-0.7, 0.0)], 0.4) == math.inf
    assert stopping_speed(math.inf, 1.0, 0.2) == math.inf and stopping_speed(0.0, 1.0, 0.2) == 0.0
    for free in (0.05, 0.3, 1.0, 3.0):
        v = stopping_speed(free, 1.0, 0.2)
        assert v * 0.2 + v * v / 2.0 == pytest.approx(free)  # reaction, then braking: exactly the free room
    assert stopping_speed(0.1, 1.0, 0.2) < stopping_speed(0.3, 1.0, 0.2) < 0.8 < stopping_speed(1.0, 1.0, 0.2)


def test_world_lidar_sees_walls_and_visitors_and_the_robot_cannot_pass_walls():
    world = SimWorld(WorldConfig(lidar=None, seed=1))
    try:
        home = world.places['home']
        ranges = world.scan()
        assert len(ranges) == 360 and np.isfinite(ranges).sum() > 250
        # Robot at home faces south (yaw -90°); beam index 180 looks straight ahead.
        ahead_before = float(ranges[180])
        world.spawn_visitor(home['x'], home['y'] - 1.5)
        seen = float(world.scan()[180])
        assert seen == pytest.approx(1.5 - 0.2, abs=0.05) and seen < ahead_before
        with pytest.raises(ValueError):
            world.spawn_visitor(10.5, 2.9)  # inside the info desk
        world.reset()
        assert not world.crowd.visitors
        # Drive south into the entrance wall region: the base stops at the wall.
        for _ in range(600):
            world.command(0.8, 0.0)
            world.step(0.02)
        assert world.pose.y > 0.1 + 0.4 - 0.05  # never through the wall (y = 0, 0.2 thick)
        assert map_file(world.world).exists()
    finally:
        world.close()


def test_generated_map_agrees_with_the_simulator_world():
    grid = load_map('maps/buergerbuero.yaml')
    world = SimWorld()
    try:
        for box in world.world['boxes']:
            cx, cy = box['center'][:2]
            r, c = grid.to_cell(cx, cy)
            assert grid.data[r, c] == 100, box['name']
    finally:
        world.close()


@pytest.mark.parametrize('building', ['buergerbuero', 'rathaus_nord'])
def test_planner_and_follower_reach_every_place_and_back_without_touching_anything(building):
    """The navigator's pieces in the simulated world (no ROS): from home to every place in turn, then home."""
    world = SimWorld(WorldConfig(world=building))
    costmap = Costmap(load_map(map_file(world.world)))
    try:
        for name in [p for p in world.places if p != 'home'] + ['home']:
            target = world.places[name]
            pose = world.pose
            result = plan(costmap, (pose.x, pose.y), (target['x'], target['y']))
            assert result.ok, f'{name}: {result.error}'
            follower = PathFollower(result.path, target['yaw'])
            for step in range(200 * 50):  # at most 200 s of sim time
                if step % 5 == 0:
                    cmd = follower.update(world.pose)
                    if cmd.done:
                        break
                    world.command(cmd.v, cmd.w)
                world.step(0.02)
                assert not world.bumped, f'{building}: touched something on the way to {name}'
            assert cmd.done, f'{building}: {name} not reached'
            assert math.dist((world.pose.x, world.pose.y), (target['x'], target['y'])) <= 0.25
    finally:
        world.close()


def test_visitor_standing_close_to_the_robot_can_still_walk_away():
    """A person within keep-clear distance of a stopped robot must not be stuck there."""
    from l2b2_sim.visitors import Crowd
    crowd = Crowd(lambda start, goal: [start, goal], exit_point=(10.0, 0.0))
    v = crowd.spawn(0.5, 0.0)
    crowd.set_behaviour(v.id, 'wander_off', (0.0, 0.0, 0.0), goal=(6.0, 0.0))
    for _ in range(100):
        crowd.step(0.1, (0.0, 0.0, 0.0))
    assert v.x > 3.0


def test_follower_waits_when_the_robot_turns_back_along_its_trail():
    """The robot drives 4 m east, then 0.6 m back towards its follower: the follower stands (it used to
    walk on along the trail onto the robot, which then could not turn away)."""
    crowd = Crowd(lambda s, g: [s, g], (0.0, 0.0), robot_radius=0.4, visitor_radius=0.2)
    v = crowd.spawn(0.0, 0.0)
    robot = [1.5, 0.0, 0.0]
    crowd.set_behaviour(v.id, 'follow', tuple(robot))
    for _ in range(100):
        robot[0] += 0.04
        crowd.step(0.05, tuple(robot))
    assert robot[0] - v.x == pytest.approx(v.follow_distance, abs=0.1)
    for dx in [-0.04] * 15 + [0.0] * 50:
        robot[0] += dx
        before = v.x
        crowd.step(0.05, tuple(robot))
        if v.x != before:  # every step the visitor takes ends clear of the robot
            assert robot[0] - v.x >= 0.4 + 0.2 + 0.15 - 1e-9
    assert 0.0 < robot[0] - v.x < 0.75  # the robot came close, and the visitor stood


def test_robot_touched_by_a_visitor_can_drive_out_of_the_touch_but_not_deeper():
    world = SimWorld(WorldConfig(lidar=None, seed=1))
    try:
        home = world.places['home']
        # A visitor pressed against the robot's back (robot faces south): their bodies overlap.
        world.spawn_visitor(home['x'], home['y'] + 0.55)
        for _ in range(100):
            world.command(0.3, 0.0)
            world.step(0.02)
        assert world.pose.y < home['y'] - 0.2  # drove away (every pose in touch used to count as a crash)
        world.reset()
        world.spawn_visitor(home['x'], home['y'] - 0.55)  # now in front: driving into them is refused
        for _ in range(50):
            world.command(0.5, 0.0)
            world.step(0.02)
        assert world.bumped and world.pose.y == pytest.approx(home['y'], abs=0.02)
        for _ in range(100):  # backing out of the touch is free
            world.command(-0.3, 0.0)
            world.step(0.02)
        assert world.pose.y > home['y'] + 0.1
    finally:
        world.close()


def test_follower_in_the_robots_way_steps_aside_and_comes_back_to_the_trail():
    """The robot turned back towards its follower (to reach its goal): the follower makes way
    (standing there, they blocked the robot for good), then walks on along the trail."""
    crowd = Crowd(lambda s, g: [s, g], (0.0, 0.0), robot_radius=0.4, visitor_radius=0.2)
    v = crowd.spawn(0.0, 0.0)
    robot = [1.5, 0.0, 0.0]
    crowd.set_behaviour(v.id, 'follow', tuple(robot))
    for _ in range(50):
        robot[0] += 0.04
        crowd.step(0.05, tuple(robot))
    robot[2] = math.pi  # turned round: the follower, 1.2 m behind, is now straight ahead
    for _ in range(40):
        crowd.step(0.05, tuple(robot))
    assert abs(v.y) >= 0.4 + 0.2 + 0.15  # out of the robot's corridor
    robot[2] = 0.0
    for _ in range(150):  # the robot drives on east: the follower is back on its trail, behind it
        robot[0] += 0.04
        crowd.step(0.05, tuple(robot))
    assert abs(v.y) < 1e-6 and robot[0] - v.x == pytest.approx(v.follow_distance, abs=0.1)


def test_robot_driving_slantwise_into_a_wall_slides_along_it():
    """A controller lagging on a busy machine cuts corners; the base then slides along what it touches
    (it used to stick there for good: the escort gave up with 'no progress')."""
    world = SimWorld(WorldConfig(lidar=None, seed=1))
    try:
        world.drive.pose = Pose2D(7.0, 0.9, -1.0)  # 0.9 m north of the entrance wall, heading down at it
        world._place_robot(world.drive.pose)
        for _ in range(200):
            world.command(0.5, 0.0)
            world.step(0.02)
        assert world.pose.y > 0.1 + 0.4 - 0.02  # never into the wall (its face at y = 0.1)
        assert world.pose.x > 7.0 + 0.6  # slid east along it
    finally:
        world.close()

"""The simulated Bürgerbüro: a headless pybullet world with the building, the robot and the visitors.

Built from the generated ``sim/worlds/<name>.world.json`` and the robot description expanded from
``sim/urdf/l2b2.urdf.xacro`` (the same files the Gazebo assets use). The base is kinematic: the
diff-drive integrates the command, pybullet's collision detection refuses poses that hit the building
or a visitor, and the lidar ray-casts against everything. No ROS import; the simulator node wraps it.
"""
from __future__ import annotations

from dataclasses import dataclass
import json
import math
import os
from pathlib import Path
import tempfile

import pybullet
import xacro

from l2b2_common.config import share_dir
from l2b2_common.geometry import Pose2D
from l2b2_common.tunables import tunable
from l2b2_sim.diff_drive import DiffDrive, DriveLimits
from l2b2_sim.lidar import Lidar, LidarSpec
from l2b2_sim.planner import Costmap, CostParams, load_map, plan
from l2b2_sim.visitors import Crowd

VISITOR_HEIGHT = 1.7
#: Touching closer than this (m) is not a collision (contact noise of the collision shapes).
CONTACT_SLOP = 0.005


def world_file(name: str) -> Path:
    """``buergerbuero`` -> sim/worlds/buergerbuero.world.json; a path is returned as it is."""
    p = Path(name)
    if p.suffix == '.json':
        return p if p.is_absolute() else share_dir() / p
    return share_dir() / 'sim' / 'worlds' / f'{name}.world.json'


def map_file(world: dict) -> Path:
    """The Nav2 map generated from the same floor plan as the world."""
    return share_dir() / 'maps' / f'{world["name"]}.yaml'


def robot_urdf(xacro_path: str | os.PathLike | None = None) -> str:
    path = Path(xacro_path) if xacro_path else share_dir() / 'sim' / 'urdf' / 'l2b2.urdf.xacro'
    return xacro.process_file(str(path)).toxml()


@dataclass
class WorldConfig:
    world: str = tunable('buergerbuero', 'Generated world: a name under sim/worlds/ or a path to a .world.json.')
    start_place: str = tunable('home', 'Place of the world where the robot starts (and returns on /sim/reset).')
    robot_radius: float = tunable(0.4, 'Footprint radius (m).', min=0.1, max=1.5)
    visitor_radius: float = tunable(0.2, 'Radius of a simulated visitor body the lidar sees (m).',
                                    min=0.05, max=0.6)
    seed: int = tunable(0, 'Seed for lidar noise and visitor choices (repeatable runs).', min=0)
    limits: DriveLimits | None = None
    lidar: LidarSpec | None = None


class SimWorld:
    """Steps the robot and the visitors; scans; answers where everything is."""

    def __init__(self, config: WorldConfig | None = None):
        self.config = cfg = config or WorldConfig()
        path = world_file(cfg.world)
        self.world = json.loads(path.read_text(encoding='utf-8'))
        self.places = self.world['places']
        if cfg.start_place not in self.places:
            raise ValueError(f'{path}: no place {cfg.start_place!r} to start at')
        self.client = pybullet.connect(pybullet.DIRECT)
        self._static: set[int] = set()
        for box in self.world['boxes']:
            half = [s / 2 for s in box['size']]
            shape = pybullet.createCollisionShape(pybullet.GEOM_BOX, halfExtents=half, physicsClientId=self.client)
            body = pybullet.createMultiBody(0, shape, basePosition=box['center'],
                                            baseOrientation=pybullet.getQuaternionFromEuler([0, 0, box['yaw']]),
                                            physicsClientId=self.client)
            self._static.add(body)
        with tempfile.NamedTemporaryFile('w', suffix='.urdf', delete=False) as f:
            f.write(robot_urdf())
            urdf_path = f.name
        try:
            self.robot = pybullet.loadURDF(urdf_path, physicsClientId=self.client)
        finally:
            os.unlink(urdf_path)
        self.drive = DiffDrive(cfg.limits or DriveLimits())
        self.lidar = Lidar(self.client, cfg.lidar or LidarSpec(), seed=cfg.seed)
        grid = load_map(map_file(self.world))
        self._visitor_costmap = Costmap(grid, CostParams(robot_radius=cfg.visitor_radius + 0.05,
                                                         inflation_radius=cfg.visitor_radius + 0.3))
        exit_place = self.places.get('entrance') or self.places[cfg.start_place]
        self.crowd = Crowd(self._visitor_path, (exit_place['x'], exit_place['y']), robot_radius=cfg.robot_radius,
                           visitor_radius=cfg.visitor_radius, seed=cfg.seed, free=self._visitor_costmap.is_free)
        self._visitor_bodies: dict[int, int] = {}
        self._visitor_shape = pybullet.createCollisionShape(
            pybullet.GEOM_CYLINDER, radius=cfg.visitor_radius, height=VISITOR_HEIGHT, physicsClientId=self.client)
        self.time = 0.0
        self.bumped = False
        self.reset()

    # --- state -----------------------------------------------------------------------------------
    def reset(self) -> None:
        """Robot back at the start place, standing; no visitors."""
        for body in self._visitor_bodies.values():
            pybullet.removeBody(body, physicsClientId=self.client)
        self._visitor_bodies.clear()
        self.crowd.reset()
        start = self.places[self.config.start_place]
        self.drive.pose = Pose2D(start['x'], start['y'], start['yaw'])
        self.drive.stop()
        self.drive.odometer = 0.0
        self._place_robot(self.drive.pose)
        self.bumped = False

    def command(self, v: float, w: float) -> None:
        self.drive.command(v, w, self.time)

    @property
    def pose(self) -> Pose2D:
        return self.drive.pose

    def spawn_visitor(self, x: float, y: float, yaw: float = 0.0, visitor_id: int = 0) -> int:
        if not self._visitor_costmap.is_free(x, y):
            raise ValueError(f'({x:.2f}, {y:.2f}) is not a free spot for a visitor')
        v = self.crowd.spawn(x, y, yaw, visitor_id)
        self._visitor_bodies[v.id] = pybullet.createMultiBody(
            0, self._visitor_shape, basePosition=[x, y, VISITOR_HEIGHT / 2], physicsClientId=self.client)
        return v.id

    def set_visitor(self, visitor_id: int, behaviour: str, **kwargs) -> None:
        p = self.pose
        self.crowd.set_behaviour(visitor_id, behaviour, (p.x, p.y, p.yaw), **kwargs)
        self._sync_visitor_bodies()

    def _visitor_path(self, start, goal) -> list:
        result = plan(self._visitor_costmap, start, goal)
        return result.path

    # --- stepping --------------------------------------------------------------------------------
    def step(self, dt: float) -> None:
        self.time += dt
        pose, v, w = self.drive.propose(dt, self.time)
        cur = self.drive.pose
        depth = self._penetration(pose) if v or w else 0.0
        # A move that goes no deeper than the robot already is counts as free: a visitor who stepped
        # against the standing robot must not pin it (it may turn or drive out of the touch).
        allowed = max(CONTACT_SLOP, self._penetration(cur) + 1e-4) if depth > CONTACT_SLOP else CONTACT_SLOP
        if depth > allowed:
            # A robot grazing a wall or a corner slides along it instead of sticking: the motion without
            # its part into what it touches, else the part that is free (the turn alone, or the drive
            # alone). Refusing every pose that touches left the robot wedged for good against a counter
            # corner or the dock (a controller lagging on a busy machine cuts corners).
            parts = [(Pose2D(cur.x, cur.y, pose.yaw), 0.0, w), (Pose2D(pose.x, pose.y, cur.yaw), v, 0.0)]
            slid = self._slide(cur, pose, allowed)
            if slid is not None:  # the wheels keep their speed; the base scrapes along
                parts.insert(0, (slid, v, w))
            for part, pv, pw in parts:
                if (pv or pw) and self._penetration(part) <= allowed:
                    self.drive.accept(part, pv, pw)
                    break
            else:
                self.drive.blocked()
            self._place_robot(self.drive.pose)
            self.bumped = True
        else:
            self.drive.accept(pose, v, w)
            self.bumped = False
        p = self.drive.pose
        self.crowd.step(dt, (p.x, p.y, p.yaw))
        self._sync_visitor_bodies()

    def scan(self):
        p = self.drive.pose
        return self.lidar.scan(p.x, p.y, p.yaw)

    def _place_robot(self, pose: Pose2D) -> None:
        pybullet.resetBasePositionAndOrientation(
            self.robot, [pose.x, pose.y, 0.0], pybullet.getQuaternionFromEuler([0, 0, pose.yaw]),
            physicsClientId=self.client)

    def _slide(self, here: Pose2D, there: Pose2D, allowed: float) -> Pose2D | None:
        """``there`` less the part of the way from ``here`` that goes into the deepest contact (along
        its normal): sliding along a wall. None when the move has no part into it."""
        contacts = [c for c in self._contacts(there) if -c[8] > allowed]
        if not contacts:
            return None
        nx, ny = min(contacts, key=lambda c: c[8])[7][:2]  # normal on the obstacle, towards the robot
        norm = math.hypot(nx, ny)
        if norm < 1e-6:
            return None
        nx, ny = nx / norm, ny / norm
        dx, dy = there.x - here.x, there.y - here.y
        into = dx * nx + dy * ny
        if into >= 0:
            return None
        return Pose2D(here.x + dx - into * nx, here.y + dy - into * ny, there.yaw)

    def _penetration(self, pose: Pose2D) -> float:
        """How deep (m) the robot placed at ``pose`` would sink into the building or a visitor."""
        return max((-c[8] for c in self._contacts(pose)), default=0.0)

    def _contacts(self, pose: Pose2D) -> list:
        """pybullet's contact points of the robot placed at ``pose`` with everything else."""
        self._place_robot(pose)
        pybullet.performCollisionDetection(physicsClientId=self.client)
        return [c for c in pybullet.getContactPoints(bodyA=self.robot, physicsClientId=self.client)
                if c[2] != self.robot]

    def _sync_visitor_bodies(self) -> None:
        for vid in [vid for vid in self._visitor_bodies if vid not in self.crowd.visitors]:
            pybullet.removeBody(self._visitor_bodies.pop(vid), physicsClientId=self.client)
        for vid, v in self.crowd.visitors.items():
            pybullet.resetBasePositionAndOrientation(
                self._visitor_bodies[vid], [v.x, v.y, VISITOR_HEIGHT / 2], [0, 0, 0, 1], physicsClientId=self.client)

    def close(self) -> None:
        if self.client is not None:
            pybullet.disconnect(physicsClientId=self.client)
            self.client = None

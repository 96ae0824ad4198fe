"""A 2D ray-cast lidar on pybullet's ``rayTestBatch``: ranges as a LaserScan would carry them."""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import pybullet


@dataclass
class LidarSpec:
    beams: int = 360
    range_min: float = 0.1
    range_max: float = 12.0
    height: float = 0.4
    #: Rays start this far from the centre, outside the robot's own body.
    start_radius: float = 0.42
    noise_std: float = 0.01

    @property
    def angle_min(self) -> float:
        return -math.pi

    @property
    def angle_increment(self) -> float:
        return 2 * math.pi / self.beams

    @property
    def angle_max(self) -> float:
        return self.angle_min + (self.beams - 1) * self.angle_increment


class Lidar:
    """Casts ``beams`` horizontal rays from the laser and reports the first hit of each (inf: none)."""

    def __init__(self, client: int, spec: LidarSpec, seed: int = 0):
        self.client = client
        self.spec = spec
        self._rng = np.random.default_rng(seed)
        self._angles = spec.angle_min + np.arange(spec.beams) * spec.angle_increment

    def scan(self, x: float, y: float, yaw: float) -> np.ndarray:
        s = self.spec
        a = self._angles + yaw
        dirs = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], axis=1)
        origin = np.array([x, y, s.height])
        starts = origin + dirs * s.start_radius
        ends = origin + dirs * s.range_max
        hits = pybullet.rayTestBatch(starts.tolist(), ends.tolist(), physicsClientId=self.client)
        frac = np.array([h[2] for h in hits])
        hit = np.array([h[0] >= 0 for h in hits])
        ranges = s.start_radius + frac * (s.range_max - s.start_radius)
        if s.noise_std > 0:
            ranges = ranges + self._rng.normal(0.0, s.noise_std, ranges.shape)
        ranges = np.where(hit, np.clip(ranges, s.range_min, s.range_max), np.inf)
        return ranges.astype(np.float32)

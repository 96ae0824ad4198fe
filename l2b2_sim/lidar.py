"""A 2D ray-cast lidar on pybullet's ``rayTestBatch``: ranges as a LaserScan would carry them."""
from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
import pybullet

from l2b2_common.tunables import tunable


@dataclass(frozen=True)
class LidarSpec:
    """The simulated lidar; the simulator declares the tunables with the prefix ``lidar_``."""

    beams: int = tunable(360, 'Beams per scan over 360 degrees.', min=8, max=4096)
    range_min: float = tunable(0.1, 'Nearest range reported (m).', min=0.0, max=1.0)
    range_max: float = tunable(12.0, 'Farthest range reported (m).', min=1.0, max=100.0)
    noise_std: float = tunable(0.01, 'Gaussian range noise (m; seeded: repeatable).', min=0.0, max=0.5)
    height: float = 0.4
    #: Rays start this far from the centre, outside the robot's own body (the simulator: its radius + 2 cm).
    start_radius: float = 0.42

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

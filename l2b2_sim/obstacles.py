"""The stand-in navigator's obstacle layer: marks where the lidar sees people, cleared by later rays.

As Nav2's obstacle layer with ``inf_is_valid: true`` (config/nav2_params.yaml): each scan first
clears the cells its rays pass through (up to ``raytrace_range``; a ray that reports ``inf``, no
return, clears its whole length), then marks its end points within ``obstacle_range``. Without
clearing on ``inf``, a mark left by a person who walked on stays for good wherever nothing stands
behind them within the lidar's range (a large hall): the robot would plan around a ghost. The map's
own walls and furniture are never marked (the planner has them). No ROS here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from l2b2_common.geometry import Pose2D
from l2b2_common.maps import OccupancyMap
from l2b2_common.tunables import tunable


@dataclass(frozen=True)
class ObstacleParams:
    obstacle_radius: float = tunable(0.35, 'Radius blocked around each marked cell when re-planning (m).',
                                     min=0.05, max=2.0)
    obstacle_range: float = tunable(3.0, 'Scan points within this range are marked as obstacles (m).',
                                    min=0.5, max=12.0)
    raytrace_range: float = tunable(3.5, 'Rays clear the cells they pass through up to this range (m).',
                                    min=0.5, max=20.0)
    inf_is_valid: bool = tunable(True, 'A ray reporting inf (no return) clears raytrace_range (as Nav2 with '
                                 'inf_is_valid: true).')


class ObstacleLayer:
    """Marked cells on ``grid``; ``static`` (same shape) are cells never marked (walls and what hugs them)."""

    def __init__(self, grid: OccupancyMap, static: np.ndarray, params: ObstacleParams | None = None):
        self.grid, self.static = grid, static
        self.p = params or ObstacleParams()
        self.marked = np.zeros(grid.data.shape, dtype=bool)

    def clear(self) -> None:
        self.marked[:] = False

    def update(self, sensor: Pose2D, ranges: Sequence[float], angle_min: float, angle_increment: float,
               range_min: float, range_max: float) -> None:
        """Fold in one scan taken from ``sensor`` (its pose on the map): clear along the rays, then mark."""
        r = np.asarray(ranges, dtype=float)
        angles = sensor.yaw + angle_min + np.arange(len(r)) * angle_increment
        valid = np.isfinite(r) & (r >= range_min) & (r <= range_max)
        no_return = np.isposinf(r) if self.p.inf_is_valid else np.zeros(len(r), dtype=bool)
        # Clear up to one cell short of the hit (the hit itself is marked below), or all the way on inf.
        reach = np.where(valid, np.minimum(r - self.grid.resolution, self.p.raytrace_range),
                         np.where(no_return, min(self.p.raytrace_range, range_max), 0.0))
        self._clear_rays(sensor, angles, reach)
        hits = valid & (r <= self.p.obstacle_range)
        xs = sensor.x + r[hits] * np.cos(angles[hits])
        ys = sensor.y + r[hits] * np.sin(angles[hits])
        rows, cols, inside = self._cells(xs, ys)
        rows, cols = rows[inside], cols[inside]
        dynamic = ~self.static[rows, cols]
        self.marked[rows[dynamic], cols[dynamic]] = True

    def points_near(self, x: float, y: float, radius: float) -> list[tuple[float, float]]:
        """Centres of the marked cells within ``radius`` of (x, y)."""
        rows, cols = np.nonzero(self.marked)
        if len(rows) == 0:
            return []
        ox, oy = self.grid.origin[0], self.grid.origin[1]
        px = ox + (cols + 0.5) * self.grid.resolution
        py = oy + (rows + 0.5) * self.grid.resolution
        near = np.hypot(px - x, py - y) <= radius
        return list(zip(px[near].tolist(), py[near].tolist(), strict=True))

    def is_marked(self, x: float, y: float) -> bool:
        r, c = self.grid.to_cell(x, y)
        return self.grid.contains(r, c) and bool(self.marked[r, c])

    def _clear_rays(self, sensor: Pose2D, angles: np.ndarray, reach: np.ndarray) -> None:
        longest = float(reach.max(initial=0.0))
        if longest <= 0.0:
            return
        step = 0.5 * self.grid.resolution
        d = np.arange(0.0, longest + step, step)
        use = d[None, :] <= reach[:, None]  # (rays, samples)
        xs = sensor.x + np.cos(angles)[:, None] * d[None, :]
        ys = sensor.y + np.sin(angles)[:, None] * d[None, :]
        rows, cols, inside = self._cells(xs[use], ys[use])
        self.marked[rows[inside], cols[inside]] = False

    def _cells(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        res, (ox, oy) = self.grid.resolution, self.grid.origin[:2]
        cols = np.floor((np.asarray(xs) - ox) / res).astype(int)
        rows = np.floor((np.asarray(ys) - oy) / res).astype(int)
        inside = (rows >= 0) & (rows < self.grid.height) & (cols >= 0) & (cols < self.grid.width)
        return rows, cols, inside

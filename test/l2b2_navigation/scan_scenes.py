"""Synthetic laser scans for the tracker tests: exact ray casting against circles (legs, bodies) and walls."""
from __future__ import annotations

import math

import numpy as np


def render_scan(circles: list[tuple[float, float, float]], walls: list[tuple[float, float, float, float]] = (),
                beams: int = 720, range_max: float = 12.0) -> tuple[list[float], float, float]:
    """Ranges seen from the origin looking along +x: circles (x, y, r), wall segments (x1, y1, x2, y2).

    Returns (ranges, angle_min, angle_increment) for a full 360° scan.
    """
    angles = -math.pi + np.arange(beams) * (2 * math.pi / beams)
    d = np.column_stack((np.cos(angles), np.sin(angles)))
    ranges = np.full(beams, np.inf)
    for cx, cy, r in circles:
        b = d @ np.array([cx, cy])
        disc = b * b - (cx * cx + cy * cy - r * r)
        hit = np.where(disc >= 0, b - np.sqrt(np.maximum(disc, 0)), np.inf)
        ranges = np.minimum(ranges, np.where(hit > 0, hit, np.inf))
    for x1, y1, x2, y2 in walls:
        e = np.array([x2 - x1, y2 - y1])
        denom = d[:, 0] * (-e[1]) - d[:, 1] * (-e[0])
        with np.errstate(divide='ignore', invalid='ignore'):
            t = (x1 * (-e[1]) - y1 * (-e[0])) / denom
            u = (d[:, 0] * y1 - d[:, 1] * x1) / denom
        ok = (np.abs(denom) > 1e-9) & (t > 0) & (u >= 0) & (u <= 1)
        ranges = np.minimum(ranges, np.where(ok, t, np.inf))
    ranges[ranges > range_max] = np.inf
    return ranges.tolist(), float(angles[0]), 2 * math.pi / beams


def person(x: float, y: float, legs: bool = True) -> list[tuple[float, float, float]]:
    """A standing person: two legs 0.3 m apart (side by side) or one body cylinder."""
    if not legs:
        return [(x, y, 0.22)]
    return [(x, y - 0.15, 0.06), (x, y + 0.15, 0.06)]

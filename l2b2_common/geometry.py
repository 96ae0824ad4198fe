"""Planar geometry shared by every node: one pose type, one angle wrap, one yaw <-> quaternion pair.

A mobile base on a flat floor needs x, y and yaw; ROS messages carry quaternions. No ROS import here:
``yaw_from_msg`` and ``quaternion_msg_fields`` take and give plain attributes so messages of any
package fit.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any

import numpy as np


def wrap_angle(angle: float) -> float:
    """``angle`` in (-pi, pi]."""
    return math.atan2(math.sin(angle), math.cos(angle))


def yaw_from_quaternion(x: float, y: float, z: float, w: float) -> float:
    """The rotation about z of a quaternion (roll and pitch ignored: the floor is flat)."""
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def quaternion_from_yaw(yaw: float) -> tuple[float, float, float, float]:
    """(x, y, z, w) of a rotation by ``yaw`` about z."""
    return 0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0)


def yaw_from_msg(q: Any) -> float:
    """Yaw of anything with x, y, z, w attributes (geometry_msgs/Quaternion)."""
    return yaw_from_quaternion(q.x, q.y, q.z, q.w)


def quaternion_msg_fields(yaw: float) -> dict[str, float]:
    """Keyword arguments for geometry_msgs/Quaternion: ``Quaternion(**quaternion_msg_fields(yaw))``."""
    x, y, z, w = quaternion_from_yaw(yaw)
    return {'x': x, 'y': y, 'z': z, 'w': w}


@dataclass(frozen=True)
class Pose2D:
    """A planar pose (metres, radians); ``compose`` chains transforms like tf does."""

    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0

    def compose(self, other: Pose2D) -> Pose2D:
        """self ∘ other: ``other`` given in this pose's frame, expressed in this pose's parent frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return Pose2D(self.x + c * other.x - s * other.y, self.y + s * other.x + c * other.y,
                      wrap_angle(self.yaw + other.yaw))

    def inverse(self) -> Pose2D:
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return Pose2D(-c * self.x - s * self.y, s * self.x - c * self.y, -self.yaw)

    def apply(self, points: np.ndarray) -> np.ndarray:
        """Transform an (N, 2) array of points from this pose's child frame into its parent frame."""
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        rot = np.array([[c, -s], [s, c]])
        return points @ rot.T + np.array([self.x, self.y])

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        """A parent-frame point in this pose's frame (x forward, y left)."""
        dx, dy = x - self.x, y - self.y
        c, s = math.cos(self.yaw), math.sin(self.yaw)
        return c * dx + s * dy, -s * dx + c * dy

    def distance_to(self, x: float, y: float) -> float:
        return math.hypot(self.x - x, self.y - y)

    def as_dict(self) -> dict[str, float]:
        """Rounded to millimetres and milliradians: what the panel sends to the browser."""
        return {'x': round(self.x, 3), 'y': round(self.y, 3), 'yaw': round(self.yaw, 3)}

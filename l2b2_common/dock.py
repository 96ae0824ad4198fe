"""Where the robot charges in a building: the dock and its staging pose, from the building's places.

One rule for everyone who needs the dock: the simulated docking server (``l2b2-sim-dock``) and the
simulator's charger (l2b2_sim), and Nav2's docking server on the robot, whose dock database the launch
plan writes from it (l2b2_bringup.launch_plan.dock_parameters). No ROS import here.

The robot backs onto the charger: on the dock it faces away from it, and the staging pose, where the
straight approach starts, is ``offset_m`` ahead of the dock with the same heading. The dock is the place
``ladestation`` when the building has one; otherwise -- no building in maps/ has one yet -- the floor
plans' ``home`` ("its docking spot") is the staging pose and the dock is ``offset_m`` straight behind it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import math
from typing import Any

from l2b2_common.geometry import Pose2D, wrap_angle

DOCK_PLACE, STAGING_PLACE, DOCK_OFFSET_M = 'ladestation', 'home', 1.1


@dataclass(frozen=True)
class DockGeometry:
    """Where the robot charges and where its straight approach starts (both heading the same way)."""

    dock: Pose2D
    staging: Pose2D


def _pose(place: Any) -> Pose2D:
    if isinstance(place, Mapping):
        return Pose2D(float(place['x']), float(place['y']), float(place.get('yaw', 0.0)))
    return Pose2D(place.x, place.y, place.yaw)


def dock_geometry(places: Mapping[str, Any], dock_place: str = DOCK_PLACE, staging_place: str = STAGING_PLACE,
                  offset_m: float = DOCK_OFFSET_M) -> DockGeometry:
    """The dock and its staging pose from a building's places (waypoints or the sim world's places).

    The robot docks backwards: on the dock it faces away from the charger, the staging pose is
    ``offset_m`` ahead of it. With a ``dock_place`` the dock is that place, else it is ``offset_m``
    behind ``staging_place``. Raises KeyError when neither place exists.
    """
    if dock_place in places:
        dock = _pose(places[dock_place])
        staging = Pose2D(dock.x + offset_m * math.cos(dock.yaw), dock.y + offset_m * math.sin(dock.yaw), dock.yaw)
        return DockGeometry(dock, staging)
    if staging_place not in places:
        raise KeyError(f'neither {dock_place!r} nor {staging_place!r} is a place of the building')
    staging = _pose(places[staging_place])
    dock = Pose2D(staging.x - offset_m * math.cos(staging.yaw), staging.y - offset_m * math.sin(staging.yaw),
                  staging.yaw)
    return DockGeometry(dock, staging)


def nav2_dock_pose(geometry: DockGeometry) -> Pose2D:
    """The dock as Nav2's docking server wants it in its database: its yaw points into the charger.

    Nav2 Kilted (opennav_docking) orients a dock the way the robot moves onto it; with ``dock_direction:
    backward`` the robot stands on it turned by pi (docking_server.cpp turns the target and, undocking, the
    robot's pose by pi). Our dock pose is the robot's pose on the dock, so: the same point, yaw + pi. The
    plugin's ``staging_x_offset: -offset_m`` and ``staging_yaw_offset: pi`` then give our staging pose back.
    """
    d = geometry.dock
    return Pose2D(d.x, d.y, wrap_angle(d.yaw + math.pi))

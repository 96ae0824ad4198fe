"""Live view and recording of the simulation with ``foxglove-sdk``: no ROS bridge needed.

The simulator hands every scan to :class:`LiveView`, which logs the building, the robot, the
visitors (as a 3D scene), the transforms and the lidar scan on its own Foxglove context: streamed on
a WebSocket bound to loopback (open ``ws://127.0.0.1:<port>`` in Foxglove) and/or written to an MCAP
file. Both are off by default; nothing is stored unless a path is given. No ROS import.
"""
from __future__ import annotations

import math
import os
from pathlib import Path
import re

import foxglove
from foxglove import channels, messages

from l2b2_common.geometry import quaternion_msg_fields

_COLOURS = {'wall': (0.85, 0.85, 0.8), 'counter': (0.55, 0.35, 0.2), 'furniture': (0.3, 0.45, 0.6)}


def recording_path_from_env(name: str = '') -> str:
    """``<dir>/<run>.mcap`` when ``L2B2_RECORD_MCAP=<dir>`` is set (developers debugging a test or
    benchmark run), else ''. The run is named after ``name`` or the current pytest test."""
    record_dir = os.environ.get('L2B2_RECORD_MCAP')
    if not record_dir:
        return ''
    run = name or os.environ.get('PYTEST_CURRENT_TEST', 'run').split(' ')[0]
    return os.path.join(record_dir, re.sub(r'[^\w.-]+', '_', run) + '.mcap')


def _quat(yaw: float) -> messages.Quaternion:
    return messages.Quaternion(**quaternion_msg_fields(yaw))


def _colour(rgb, a: float = 1.0) -> messages.Color:
    return messages.Color(r=rgb[0], g=rgb[1], b=rgb[2], a=a)


class LiveView:
    """Publishes the sim to a loopback WebSocket (``port``; 0 = any free port) and/or an MCAP file."""

    def __init__(self, world, *, port: int | None = None, mcap_path: str | None = None, building_period_s: float = 2.0):
        self._world = world
        self._context = foxglove.Context()
        self._server = None
        self._mcap = None
        if port is not None:
            self._server = foxglove.start_server(name='l2b2-sim', host='127.0.0.1', port=port, context=self._context)
        if mcap_path:
            Path(mcap_path).parent.mkdir(parents=True, exist_ok=True)
            self._mcap = foxglove.open_mcap(mcap_path, allow_overwrite=True, context=self._context)
        self._tf = channels.FrameTransformsChannel('/tf', context=self._context)
        self._scan = channels.LaserScanChannel('/scan', context=self._context)
        self._scene = channels.SceneUpdateChannel('/scene', context=self._context)
        self._building_period = building_period_s
        self._building_sent = -math.inf
        self._building = self._building_entity()

    @property
    def port(self) -> int | None:
        return self._server.port if self._server is not None else None

    def _building_entity(self) -> messages.SceneEntity:
        cubes = [messages.CubePrimitive(
            pose=messages.Pose(position=messages.Vector3(x=b['center'][0], y=b['center'][1], z=b['center'][2]),
                               orientation=_quat(b['yaw'])),
            size=messages.Vector3(x=b['size'][0], y=b['size'][1], z=b['size'][2]),
            color=_colour(_COLOURS.get(b['kind'], (0.5, 0.5, 0.5))))
            for b in self._world.world['boxes']]
        return messages.SceneEntity(frame_id='map', id='building', cubes=cubes)

    def publish(self, t: float, pose, ranges, people) -> None:
        """One frame: called by the simulator at the scan rate (sim time ``t`` in seconds)."""
        ns = int(round(t * 1e9))
        stamp = messages.Timestamp(ns // 1_000_000_000, ns % 1_000_000_000)
        self._tf.log(messages.FrameTransforms(transforms=[
            messages.FrameTransform(timestamp=stamp, parent_frame_id='map', child_frame_id='base_link',
                                    translation=messages.Vector3(x=pose.x, y=pose.y, z=0.0),
                                    rotation=_quat(pose.yaw)),
            messages.FrameTransform(timestamp=stamp, parent_frame_id='base_link', child_frame_id='laser',
                                    translation=messages.Vector3(x=0.0, y=0.0, z=self._world.lidar.spec.height),
                                    rotation=_quat(0.0)),
        ]), log_time=ns)
        spec = self._world.lidar.spec
        finite = [float(r) if math.isfinite(r) else 0.0 for r in ranges]
        self._scan.log(messages.LaserScan(timestamp=stamp, frame_id='laser', start_angle=spec.angle_min,
                                          end_angle=spec.angle_max, ranges=finite), log_time=ns)
        entities = []
        if t - self._building_sent >= self._building_period:
            self._building_sent = t
            entities.append(self._building)
        radius = self._world.config.robot_radius
        entities.append(messages.SceneEntity(timestamp=stamp, frame_id='map', id='robot', cylinders=[
            messages.CylinderPrimitive(
                pose=messages.Pose(position=messages.Vector3(x=pose.x, y=pose.y, z=0.5), orientation=_quat(pose.yaw)),
                size=messages.Vector3(x=2 * radius, y=2 * radius, z=1.0), bottom_scale=1.0, top_scale=1.0,
                color=_colour((0.95, 0.95, 0.95)))]))
        vr = self._world.config.visitor_radius
        entities.append(messages.SceneEntity(timestamp=stamp, frame_id='map', id='visitors', cylinders=[
            messages.CylinderPrimitive(
                pose=messages.Pose(position=messages.Vector3(x=x, y=y, z=0.85), orientation=_quat(0.0)),
                size=messages.Vector3(x=2 * vr, y=2 * vr, z=1.7), bottom_scale=1.0, top_scale=1.0,
                color=_colour((0.9, 0.5, 0.1)))
            for _vid, x, y, _vx, _vy in people]))
        self._scene.log(messages.SceneUpdate(entities=entities), log_time=ns)

    def close(self) -> None:
        if self._mcap is not None:
            self._mcap.close()
            self._mcap = None
        if self._server is not None:
            self._server.stop()
            self._server = None

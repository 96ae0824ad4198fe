"""A planar transform buffer: what tf2's buffer does for a mobile base on a flat floor, without ROS.

No tf2_ros wheel exists for the ROS 2 wheels this project runs on, and planar poses are all a greeter
robot needs. :class:`~l2b2_common.tf_listener.TfListener` fills a :class:`FrameTree` from /tf and
/tf_static; pure code (tracker, tests) fills it directly.
"""
from __future__ import annotations

import bisect
from collections import deque

from l2b2_common.geometry import Pose2D


class FrameTree:
    """Recent planar transforms per frame, as received on /tf and /tf_static (no tf2_ros wheel exists).

    Enough for a mobile base on a flat floor: ``lookup('map', 'laser')`` chains map→odom→base_link→laser.
    With a stamp, each link is taken at the nearest stamp it has: a scan is placed where the robot was
    when it was taken, not where it is by the time the scan is processed.
    """

    def __init__(self, history: int = 100) -> None:
        self._parent: dict[str, str] = {}
        self._poses: dict[str, deque[tuple[float, Pose2D]]] = {}
        self._history = history

    def set(self, parent: str, child: str, pose: Pose2D, stamp: float = 0.0) -> None:
        child = child.lstrip('/')
        self._parent[child] = parent.lstrip('/')
        poses = self._poses.setdefault(child, deque(maxlen=self._history))
        if not poses or stamp > poses[-1][0]:
            poses.append((stamp, pose))
        elif stamp < poses[-1][0] - 1.0:
            poses.clear()  # time went backwards (a restarted bag or simulation): forget the old history
            poses.append((stamp, pose))
        elif stamp == poses[-1][0]:
            poses[-1] = (stamp, pose)
        else:  # a little out of order (several publishers or queues): keep the history sorted
            if len(poses) == poses.maxlen:
                if stamp < poses[0][0]:
                    return  # older than all the history keeps: nothing would ask for it
                poses.popleft()  # a full deque refuses insert(): make room by dropping the oldest
            poses.insert(bisect.bisect_left(poses, stamp, key=lambda e: e[0]), (stamp, pose))

    def latest_stamp(self, frame: str) -> float | None:
        """Stamp of the newest transform received for ``frame`` (its link to its parent)."""
        poses = self._poses.get(frame.lstrip('/'))
        return poses[-1][0] if poses else None

    def _pose(self, frame: str, stamp: float | None) -> Pose2D:
        poses = self._poses[frame]
        if stamp is None or len(poses) == 1:
            return poses[-1][1]
        i = bisect.bisect_left(poses, stamp, key=lambda e: e[0])
        if i >= len(poses):
            return poses[-1][1]
        if i > 0 and stamp - poses[i - 1][0] < poses[i][0] - stamp:
            i -= 1
        return poses[i][1]

    def _to_root(self, frame: str, stamp: float | None) -> tuple[str, Pose2D]:
        pose, seen = Pose2D(), set()
        while frame in self._parent and frame not in seen:
            seen.add(frame)
            pose = self._pose(frame, stamp).compose(pose)
            frame = self._parent[frame]
        return frame, pose

    def lookup(self, target: str, source: str, stamp: float | None = None) -> Pose2D | None:
        """The pose of ``source`` in ``target`` (None when the two are not connected)."""
        root_t, t = self._to_root(target.lstrip('/'), stamp)
        root_s, s = self._to_root(source.lstrip('/'), stamp)
        if root_t != root_s:
            return None
        return t.inverse().compose(s)

"""``l2b2-person-tracker``: people in /scan, tracked with ids, in the map frame.

The same node runs on the robot and in simulation (where visitors are bodies the simulated lidar
sees). It publishes ``/people/tracked`` for the escort and the panel, and ``/people/events``
(APPROACHED within greeting distance, LEFT) for the dialogue. The simulator's ground truth never
reaches it; only the benchmark compares the two.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from geometry_msgs.msg import Point, Vector3
from l2b2_interfaces.msg import TrackedPeople, TrackedPerson, VisitorEvent
from nav_msgs.msg import OccupancyGrid, Odometry
import numpy as np
from rclpy.time import Time
from sensor_msgs.msg import LaserScan
from tf2_msgs.msg import TFMessage

from l2b2_common.geometry import Pose2D, yaw_from_msg
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import LATCHED, RELIABLE, SENSOR
from l2b2_common.tf_listener import TfListener, stamp_seconds
from l2b2_common.tunables import declare_tunables, tunable
from l2b2_navigation.person_tracker import (
    DetectorConfig,
    PersonTracker,
    ProximityMonitor,
    StaticMap,
    TrackerConfig,
    detect_people,
)


@dataclass(frozen=True)
class TrackerNodeParams:
    """The node's own settings; detection, tracking and proximity are DetectorConfig, TrackerConfig and
    ProximityMonitor, each declared from its own dataclass."""

    global_frame: str = tunable('map', 'Frame of the published tracks and of the robot pose lookup.')
    base_frame: str = tunable('base_link', 'The robot body frame; the scanner is assumed here when its frame '
                              'is unknown.')
    use_map: bool = tunable(True, 'Drop candidates next to occupied cells of /map (walls, counters, door frames).')
    stale_scan_s: float = tunable(2.0, 'Health turns DEGRADED when no scan came for this long (s).',
                                  min=0.2, max=60.0)


class PersonTrackerNode(LeanNode):
    """Wraps :class:`PersonTracker`: /scan + /tf (+ /map) in, tracks and proximity events out."""

    def __init__(self, **kwargs):
        super().__init__('person_tracker', **kwargs)
        self.p = p = declare_tunables(self, TrackerNodeParams)
        self.detector = declare_tunables(self, DetectorConfig)
        self.tracker = PersonTracker(declare_tunables(self, TrackerConfig))
        self.proximity = declare_tunables(self, ProximityMonitor)
        self.static_map: StaticMap | None = None
        self._last_scan: Time | None = None
        self._pending_scans: deque[LaserScan] = deque(maxlen=10)
        self._tf_has_base = False
        self.health = HealthReporter(self, 'person_tracker')
        self.pub_people = self.create_publisher(TrackedPeople, '/people/tracked', RELIABLE)
        self.pub_events = self.create_publisher(VisitorEvent, '/people/events', RELIABLE)
        self.create_subscription(LaserScan, '/scan', self._on_scan, SENSOR)
        self.tf = TfListener(self, on_update=self._on_tf)
        self.frames = self.tf.tree
        self._odom_sub = self.create_subscription(Odometry, '/odom', self._on_odom, SENSOR)
        if p.use_map:
            self.create_subscription(OccupancyGrid, '/map', self._on_map, LATCHED)
        self.create_timer(1.0, self._check_stale)

    # ------------------------------------------------------------------------------------ inputs
    def _on_tf(self, msg: TFMessage) -> None:
        if not self._tf_has_base and any(t.child_frame_id.lstrip('/') == self.p.base_frame for t in msg.transforms):
            self._tf_has_base = True
            self.destroy_subscription(self._odom_sub)  # /tf carries the robot's pose: odometry is not needed
        self._catch_up()

    def _catch_up(self) -> None:
        """Process the scans whose robot pose has arrived (/tf can lag behind /scan on a busy machine)."""
        newest = self.frames.latest_stamp(self.p.base_frame)
        while self._pending_scans and (newest is None
                                       or newest + 1e-3 >= stamp_seconds(self._pending_scans[0].header.stamp)):
            self._process(self._pending_scans.popleft())

    def _on_odom(self, msg: Odometry) -> None:
        # Odometry is odom→base_link too: used only where /tf does not carry the robot's pose.
        if self._tf_has_base:
            return
        o = msg.pose.pose.position
        self.frames.set(msg.header.frame_id or 'odom', msg.child_frame_id or self.p.base_frame,
                        Pose2D(o.x, o.y, yaw_from_msg(msg.pose.pose.orientation)), stamp_seconds(msg.header.stamp))
        self._catch_up()

    def _on_map(self, msg: OccupancyGrid) -> None:
        info = msg.info
        self.static_map = StaticMap.from_occupancy(msg.data, info.width, info.height, info.resolution,
                                                   info.origin.position.x, info.origin.position.y)
        self.get_logger().info(f'static map {info.width}x{info.height} cells for filtering walls')

    def _on_scan(self, msg: LaserScan) -> None:
        self._last_scan = self.get_clock().now()
        self._pending_scans.append(msg)  # the robot's pose at the scan's time may not be here yet
        self._catch_up()

    def _process(self, msg: LaserScan) -> None:
        stamp = Time.from_msg(msg.header.stamp, clock_type=self.get_clock().clock_type)
        if stamp.nanoseconds == 0:
            stamp = self.get_clock().now()
        frame = msg.header.frame_id or self.p.base_frame
        at = stamp_seconds(msg.header.stamp) or None
        scanner = self.frames.lookup(self.p.global_frame, frame, at)
        robot = self.frames.lookup(self.p.global_frame, self.p.base_frame, at)
        if scanner is None:
            scanner = robot
        if scanner is None or robot is None:
            self.health.set(DEGRADED, f'no transform {self.p.global_frame} -> {frame}')
            return
        found = scanner.apply(detect_people(msg.ranges, msg.angle_min, msg.angle_increment, msg.range_min,
                                            min(msg.range_max, self.detector.max_range), self.detector))
        if self.static_map is not None and len(found):
            found = found[self.static_map.clearance(found) >= self.detector.static_clearance]
        now_s = stamp.nanoseconds * 1e-9
        tracks = self.tracker.update(now_s, found)
        self._publish(msg.header.stamp, now_s, tracks, robot)

    # ------------------------------------------------------------------------------------ outputs
    def _publish(self, stamp, now_s: float, tracks, robot: Pose2D) -> None:
        out = TrackedPeople()
        out.header.stamp, out.header.frame_id = stamp, self.p.global_frame
        for t in tracks:
            (x, y), (vx, vy) = t.position, t.velocity
            out.people.append(TrackedPerson(id=t.id, position=Point(x=x, y=y), velocity=Vector3(x=vx, y=vy),
                                            confidence=float(self.tracker.confidence(t)),
                                            age=float(now_s - t.first_seen)))
        self.pub_people.publish(out)
        for event, pid, dist in self.proximity.update(robot.x, robot.y, ((t.id, *t.position) for t in tracks)):
            ev = VisitorEvent(event=event, person_id=pid, distance=float(dist) if np.isfinite(dist) else -1.0)
            ev.header.stamp, ev.header.frame_id = stamp, self.p.global_frame
            self.pub_events.publish(ev)
        self.health.set(OK, 'tracking', people=len(tracks))

    def _check_stale(self) -> None:
        now = self.get_clock().now()
        if self._last_scan is None:
            self.health.set(DEGRADED, 'waiting for /scan')
        elif (now - self._last_scan).nanoseconds * 1e-9 > self.p.stale_scan_s:
            self.health.set(DEGRADED, 'no /scan received recently')


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: PersonTrackerNode(), args)


if __name__ == '__main__':
    raise SystemExit(main())

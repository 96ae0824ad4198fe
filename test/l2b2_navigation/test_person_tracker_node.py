"""The person tracker node: scans and /tf in, tracked people in the map frame and proximity events out."""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from geometry_msgs.msg import TransformStamped
from l2b2_interfaces.msg import TrackedPeople, VisitorEvent
from rclpy.parameter import Parameter
from sensor_msgs.msg import LaserScan
from tf2_msgs.msg import TFMessage

from l2b2_navigation.person_tracker_node import PersonTrackerNode

_spec = importlib.util.spec_from_file_location('l2b2_nav_scan_scenes', Path(__file__).with_name('scan_scenes.py'))
scenes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scenes)

ROBOT = (2.0, 3.0, math.pi / 2)  # in the map, facing +y


def test_person_walking_up_is_tracked_in_map_frame_and_greeted(ros):
    tracker = ros.add(PersonTrackerNode(context=ros.context, parameter_overrides=[Parameter('use_map', value=False)]))
    probe = ros.node('tracker_probe')
    tracked, events = [], []
    probe.create_subscription(TrackedPeople, '/people/tracked', tracked.append, 10)
    probe.create_subscription(VisitorEvent, '/people/events', events.append, 10)
    pub_scan = probe.create_publisher(LaserScan, '/scan', 10)
    pub_tf = probe.create_publisher(TFMessage, '/tf', 10)
    ros.wait_for(lambda: tracker.count_publishers('/scan') and probe.count_subscribers('/scan'), 20, 'discovery')
    ros.wait_for(lambda: probe.count_subscribers('/tf') and tracker.count_publishers('/people/events'), 20, 'tf')

    state = {'ahead': 4.0}  # the person stands this far in front of the robot (robot frame +x)
    walls = [(-3.0, 5.0, 8.0, 5.0), (-3.0, -5.0, 8.0, -5.0)]

    def publish():
        t = TransformStamped()
        t.header.stamp = probe.get_clock().now().to_msg()
        t.header.frame_id, t.child_frame_id = 'map', 'base_link'
        t.transform.translation.x, t.transform.translation.y = ROBOT[0], ROBOT[1]
        t.transform.rotation.z, t.transform.rotation.w = math.sin(ROBOT[2] / 2), math.cos(ROBOT[2] / 2)
        pub_tf.publish(TFMessage(transforms=[t]))
        ranges, amin, ainc = scenes.render_scan(scenes.person(state['ahead'], 0.0), walls)
        scan = LaserScan(angle_min=amin, angle_increment=ainc, angle_max=amin + ainc * (len(ranges) - 1),
                         range_min=0.05, range_max=12.0, ranges=[min(r, 1e9) for r in ranges])
        scan.header.stamp, scan.header.frame_id = t.header.stamp, 'base_link'
        pub_scan.publish(scan)

    probe.create_timer(0.05, publish)

    def person_near(x, y):
        if not tracked or len(tracked[-1].people) != 1:
            return False
        p = tracked[-1].people[0]
        return tracked[-1].header.frame_id == 'map' and math.hypot(p.position.x - x, p.position.y - y) < 0.15

    ros.wait_for(lambda: person_near(2.0, 7.0), 15, 'person 4 m ahead, in the map frame')
    first_id = tracked[-1].people[0].id
    assert not events
    state['ahead'] = 1.2
    ros.wait_for(lambda: any(e.event == VisitorEvent.APPROACHED for e in events), 15, 'APPROACHED')
    approached = next(e for e in events if e.event == VisitorEvent.APPROACHED)
    assert approached.distance <= 1.5
    state['ahead'] = 3.5
    ros.wait_for(lambda: any(e.event == VisitorEvent.LEFT for e in events), 15, 'LEFT')
    assert {e.person_id for e in events} == {approached.person_id}
    assert first_id > 0

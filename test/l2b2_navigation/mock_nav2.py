"""A small real NavigateToPose server plus a visitor, for testing the escort node without the simulator.

The "robot" moves straight towards the goal at ``speed`` (wall clock), publishes ``/tf`` map→base_link
and Nav2-style feedback, succeeds on arrival, aborts goals whose target is in ``blocked`` (with a Nav2
error code), and honours cancel. The "visitor" is published on /people/tracked as a tracked person:
following 1 m behind, standing still, or gone.
"""
from __future__ import annotations

import math
import threading
import time

from geometry_msgs.msg import TransformStamped
from l2b2_interfaces.msg import TrackedPeople, TrackedPerson
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.node import Node
from tf2_msgs.msg import TFMessage


class MockNav2(Node):
    def __init__(self, speed: float = 6.0, **kwargs):
        super().__init__('mock_nav2', **kwargs)
        self.speed = speed
        self.x = self.y = self.yaw = 0.0
        self.blocked: set[tuple[float, float]] = set()
        self.goals: list[tuple[float, float]] = []
        self.canceled = 0
        self.visitor_mode = 'follow'  # follow | stay | gone
        self.visitor_xy = (-1.0, 0.0)
        self.visitor_id = 7
        self._lock = threading.Lock()
        group = ReentrantCallbackGroup()
        self.pub_tf = self.create_publisher(TFMessage, '/tf', 10)
        self.pub_people = self.create_publisher(TrackedPeople, '/people/tracked', 10)
        self.server = ActionServer(self, NavigateToPose, '/navigate_to_pose', execute_callback=self._execute,
                                   goal_callback=lambda _g: GoalResponse.ACCEPT,
                                   cancel_callback=self._on_cancel, callback_group=group)
        self.create_timer(0.05, self._publish, callback_group=group)

    def _on_cancel(self, _handle):
        self.canceled += 1
        return CancelResponse.ACCEPT

    def _execute(self, handle):
        gx, gy = handle.request.pose.pose.position.x, handle.request.pose.pose.position.y
        self.goals.append((gx, gy))
        result = NavigateToPose.Result()
        if (round(gx, 2), round(gy, 2)) in self.blocked:
            # Like l2b2-sim-navigator: only NavigateToPose's own codes; the reason is in error_msg.
            result.error_code, result.error_msg = NavigateToPose.Result.UNKNOWN, 'no valid path found'
            handle.abort()
            return result
        last = time.monotonic()
        while True:
            time.sleep(0.02)
            if handle.is_cancel_requested:
                handle.canceled()
                return result
            if not handle.is_active:
                return result
            now = time.monotonic()
            step, last = self.speed * (now - last), now
            with self._lock:
                dx, dy = gx - self.x, gy - self.y
                dist = math.hypot(dx, dy)
                if dist <= max(step, 1e-3):
                    self.x, self.y = gx, gy
                    handle.succeed()
                    return result
                self.yaw = math.atan2(dy, dx)
                self.x += dx / dist * step
                self.y += dy / dist * step
            fb = NavigateToPose.Feedback()
            fb.current_pose.header.frame_id = 'map'
            fb.current_pose.pose.position.x, fb.current_pose.pose.position.y = self.x, self.y
            fb.distance_remaining = float(dist)
            handle.publish_feedback(fb)

    def _publish(self):
        with self._lock:
            x, y, yaw = self.x, self.y, self.yaw
        t = TransformStamped()
        t.header.stamp = self.get_clock().now().to_msg()
        t.header.frame_id, t.child_frame_id = 'map', 'base_link'
        t.transform.translation.x, t.transform.translation.y = x, y
        t.transform.rotation.z, t.transform.rotation.w = math.sin(yaw / 2), math.cos(yaw / 2)
        self.pub_tf.publish(TFMessage(transforms=[t]))
        people = TrackedPeople()
        people.header.frame_id = 'map'
        people.header.stamp = t.header.stamp
        if self.visitor_mode == 'follow':
            self.visitor_xy = (x - math.cos(yaw), y - math.sin(yaw))
        if self.visitor_mode != 'gone':
            person = TrackedPerson(id=self.visitor_id, confidence=1.0)
            person.position.x, person.position.y = self.visitor_xy
            people.people.append(person)
        self.pub_people.publish(people)

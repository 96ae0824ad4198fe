"""One fake per navigation interface: a ``NavigateToPose`` server and an ``Escort`` server.

Real rclpy action servers with scripted behaviour, shared by the escort, dialogue and panel tests and
the panel's stand-ins (like py_trees_ros's mock servers): the caller is tested over the real graph
without Nav2, the simulator or the escort node. Both count what reached them (``goals``, ``cancels``)
and can hold a goal until it is released or cancelled, finish it with a chosen outcome, or vanish as
if their process died.

:class:`FakeNavigateToPose` can also be the robot: with ``speed`` it moves a pose straight towards the
goal (wall clock), publishes ``/tf`` map→base_link and Nav2-style feedback, and succeeds on arrival.
With ``drive_speed`` either fake publishes a forward Twist on ``/cmd_vel_nav`` while a goal runs (a
base stand-in behind the real safety gate then moves).
"""
from __future__ import annotations

from collections.abc import Iterable
import math
import threading
import time
from typing import Any

from geometry_msgs.msg import TransformStamped, Twist
from l2b2_interfaces.action import Escort
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from tf2_msgs.msg import TFMessage

from l2b2_common.codes import EscortOutcome
from l2b2_common.geometry import Pose2D, quaternion_msg_fields
from l2b2_common.lean_node import LeanNode
from l2b2_common.qos import RELIABLE, TF

#: Rate of the drive commands, feedback and /tf of a running goal (a controller's rate).
RATE_HZ = 20.0


class _GoalBook:
    """Per-goal wake-up events: a cancel, a release or the node going away ends a held goal at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[bytes, threading.Event] = {}
        self.cancels = 0

    def open(self, handle: Any) -> threading.Event:
        with self._lock:
            return self._events.setdefault(bytes(handle.goal_id.uuid), threading.Event())

    def close(self, handle: Any) -> None:
        with self._lock:
            self._events.pop(bytes(handle.goal_id.uuid), None)

    def cancel(self, handle: Any) -> CancelResponse:
        with self._lock:
            self.cancels += 1
            event = self._events.setdefault(bytes(handle.goal_id.uuid), threading.Event())
        event.set()
        return CancelResponse.ACCEPT

    def release_all(self) -> None:
        with self._lock:
            events = list(self._events.values())
        for event in events:
            event.set()


class _FakeServer(LeanNode):
    """What both fakes share: goal/cancel counting, holding, ``drive_speed`` and ``vanish``."""

    def __init__(self, name: str, action_type: Any, action_name: str, *, drive_speed: float | None,
                 accept: bool, **kwargs: Any):
        super().__init__(name, **kwargs)
        self.drive_speed = drive_speed
        self.accept = accept
        #: Set on the first cancel request (tests wait on it).
        self.canceled = threading.Event()
        self._book = _GoalBook()
        self._running = 0  # goals whose execution has not returned yet
        self._running_lock = threading.Lock()
        self._closing = False
        self._group = ReentrantCallbackGroup()
        self._pub_drive = self.create_publisher(Twist, '/cmd_vel_nav', RELIABLE) if drive_speed is not None else None
        self._server: ActionServer | None = ActionServer(
            self, action_type, action_name, execute_callback=self._run, goal_callback=self._on_goal,
            cancel_callback=self._on_cancel, callback_group=self._group)

    @property
    def cancels(self) -> int:
        """Cancel requests received."""
        return self._book.cancels

    @property
    def running(self) -> int:
        """Goals still executing: a cancel is counted when requested, the goal ends a moment later."""
        with self._running_lock:
            return self._running

    def release(self) -> None:
        """Let every held goal finish now (with the configured outcome)."""
        self._book.release_all()

    def vanish(self) -> None:
        """The action server goes away as if its process died: held goals never get a result."""
        if self._server is not None:
            self._server.destroy()
            self._server = None

    def destroy_node(self) -> None:
        self._closing = True
        self._book.release_all()
        self.vanish()
        super().destroy_node()

    # ------------------------------------------------------------------------------------ callbacks
    def _on_goal(self, goal: Any) -> GoalResponse:
        self._record(goal)
        return GoalResponse.ACCEPT if self.accept else GoalResponse.REJECT

    def _on_cancel(self, handle: Any) -> CancelResponse:
        self.canceled.set()
        return self._book.cancel(handle)

    def _run(self, handle: Any) -> Any:
        wake = self._book.open(handle)
        with self._running_lock:
            self._running += 1
        try:
            return self._execute(handle, wake)
        finally:
            with self._running_lock:
                self._running -= 1
            self._book.close(handle)
            if self._pub_drive is not None and not self._closing:
                self._pub_drive.publish(Twist())

    def _drive(self) -> None:
        if self._pub_drive is not None:
            twist = Twist()
            twist.linear.x = float(self.drive_speed)
            self._pub_drive.publish(twist)

    def _record(self, goal: Any) -> None:
        raise NotImplementedError

    def _execute(self, handle: Any, wake: threading.Event) -> Any:
        raise NotImplementedError


class FakeNavigateToPose(_FakeServer):
    """``/navigate_to_pose`` with Nav2's contract.

    - ``speed`` (m/s): the robot pose drives straight to the goal and the goal succeeds on arrival;
      ``publish_tf`` sends that pose as map→base_link. ``speed=None``: goals run until cancelled or
      ``release()`` d (then they succeed), and the pose stays put.
    - ``blocked``: goal positions (rounded to cm) aborted at once with UNKNOWN "no valid path found",
      as l2b2-sim-navigator does; ``fail_with=(code, message)`` aborts every goal that way after
      ``result_delay_s``.
    - ``goals``: the (x, y) of every goal received; ``cancels``: cancel requests received.
    """

    def __init__(self, *, speed: float | None = 6.0, publish_tf: bool = True, drive_speed: float | None = None,
                 blocked: Iterable[tuple[float, float]] = (), fail_with: tuple[int, str] | None = None,
                 result_delay_s: float = 0.0, accept: bool = True, start: Pose2D | None = None,
                 name: str = 'fake_navigate_to_pose', **kwargs: Any):
        super().__init__(name, NavigateToPose, '/navigate_to_pose', drive_speed=drive_speed, accept=accept,
                         **kwargs)
        self.speed = speed
        self.blocked: set[tuple[float, float]] = {(round(x, 2), round(y, 2)) for x, y in blocked}
        self.fail_with = fail_with
        self.result_delay_s = result_delay_s
        self.goals: list[tuple[float, float]] = []
        self._pose_lock = threading.Lock()
        self._pose = start if start is not None else Pose2D()
        self._pub_tf = None
        if publish_tf:
            self._pub_tf = self.create_publisher(TFMessage, '/tf', TF)
            self.create_timer(1.0 / RATE_HZ, self._publish_tf, callback_group=self._group)

    @property
    def pose(self) -> Pose2D:
        with self._pose_lock:
            return self._pose

    @property
    def x(self) -> float:
        return self.pose.x

    @property
    def y(self) -> float:
        return self.pose.y

    def _record(self, goal: NavigateToPose.Goal) -> None:
        self.goals.append((goal.pose.pose.position.x, goal.pose.pose.position.y))

    def _execute(self, handle: Any, wake: threading.Event) -> NavigateToPose.Result:
        gx, gy = handle.request.pose.pose.position.x, handle.request.pose.pose.position.y
        result = NavigateToPose.Result()
        if (round(gx, 2), round(gy, 2)) in self.blocked:
            # Like l2b2-sim-navigator: only NavigateToPose's own codes; the reason is in error_msg.
            result.error_code, result.error_msg = NavigateToPose.Result.UNKNOWN, 'no valid path found'
            handle.abort()
            return result
        if self.fail_with is not None:
            if wake.wait(self.result_delay_s) and handle.is_cancel_requested:
                handle.canceled()
                return result
            result.error_code, result.error_msg = self.fail_with
            handle.abort()
            return result
        last = time.monotonic()
        while True:
            if wake.wait(1.0 / RATE_HZ):
                if handle.is_cancel_requested:
                    handle.canceled()
                    return result
                if self.speed is None or self._closing:  # released
                    handle.succeed()
                    return result
                wake.clear()
            if not handle.is_active:
                return result
            self._drive()
            fb = NavigateToPose.Feedback()
            if self.speed is None:
                fb.distance_remaining = 5.0
                handle.publish_feedback(fb)
                continue
            now = time.monotonic()
            step, last = self.speed * (now - last), now
            with self._pose_lock:
                p = self._pose
                dist = math.hypot(gx - p.x, gy - p.y)
                if dist <= max(step, 1e-3):
                    self._pose = Pose2D(gx, gy, p.yaw)
                    handle.succeed()
                    return result
                self._pose = Pose2D(p.x + (gx - p.x) / dist * step, p.y + (gy - p.y) / dist * step,
                                    math.atan2(gy - p.y, gx - p.x))
                p = self._pose
            fb.current_pose.header.frame_id = 'map'
            fb.current_pose.pose.position.x, fb.current_pose.pose.position.y = p.x, p.y
            fb.distance_remaining = float(dist)
            handle.publish_feedback(fb)

    def _publish_tf(self) -> None:
        p = self.pose
        t = TransformStamped()
        t.header.stamp = self.get_clock().now().to_msg()
        t.header.frame_id, t.child_frame_id = 'map', 'base_link'
        t.transform.translation.x, t.transform.translation.y = p.x, p.y
        for k, v in quaternion_msg_fields(p.yaw).items():
            setattr(t.transform.rotation, k, v)
        self._pub_tf.publish(TFMessage(transforms=[t]))


class FakeEscort(_FakeServer):
    """``/escort`` with the contract of docs/interfaces.md.

    Each goal finishes with ``outcome`` (ARRIVED succeeds, anything else aborts) after ``delay_s``, or,
    with ``hold``, once ``release()`` is called; a cancel request ends it at once as CANCELED.
    ``goals`` holds every goal request received; ``target_ids`` their targets.
    """

    def __init__(self, *, outcome: int = EscortOutcome.ARRIVED, hold: bool = False, delay_s: float = 0.0,
                 drive_speed: float | None = None, message: str = 'fake', accept: bool = True,
                 name: str = 'fake_escort', **kwargs: Any):
        super().__init__(name, Escort, '/escort', drive_speed=drive_speed, accept=accept, **kwargs)
        self.outcome = int(outcome)
        self.hold = hold
        self.delay_s = delay_s
        self.message = message
        self.goals: list[Escort.Goal] = []

    @property
    def target_ids(self) -> list[str]:
        return [g.target_id for g in self.goals]

    def _record(self, goal: Escort.Goal) -> None:
        self.goals.append(goal)

    def _execute(self, handle: Any, wake: threading.Event) -> Escort.Result:
        deadline = None if self.hold else time.monotonic() + self.delay_s
        period = 1.0 / RATE_HZ if self.drive_speed is not None else None
        while deadline is None or time.monotonic() < deadline:
            wait = period if deadline is None else min(period or math.inf, deadline - time.monotonic())
            if wake.wait(max(0.0, wait) if wait is not None else None):
                break
            if not handle.is_active:
                return Escort.Result(outcome=int(EscortOutcome.CANCELED), message='gone')
            if self.drive_speed is not None:
                self._drive()
                handle.publish_feedback(Escort.Feedback(phase='navigating', distance_remaining=5.0))
        result = Escort.Result(message=self.message, elapsed_s=1.0, path_length_m=5.0)
        if handle.is_cancel_requested:
            handle.canceled()
            result.outcome, result.message = int(EscortOutcome.CANCELED), 'cancelled'
            return result
        result.outcome = self.outcome
        if self.outcome == EscortOutcome.ARRIVED:
            handle.succeed()
        else:
            handle.abort()
        return result

"""``l2b2-sim-dock``: a simulated Nav2 docking server (``DockRobot``/``UndockRobot``) for the pybullet robot.

Nav2 Kilted's docking server (node ``docking_server``) serves ``/dock_robot`` and ``/undock_robot``
(nav2_msgs); the office node drives exactly these, so it needs no simulation switch. Docking here, as
in Nav2: ``NavigateToPose`` to the staging pose (unless the goal says the robot is already there), then
a slow straight approach of its own onto the dock (``/cmd_vel_nav``, which the safety gate passes on, as
Nav2's docking controller does), success when the base stands on the dock pose within tolerance.
Undocking drives straight back to the staging pose. The result carries Nav2's error codes:
``FAILED_TO_STAGE`` when the staging pose is not reached (blocked, no path, ``max_staging_time``),
``FAILED_TO_CONTROL`` when the approach does not reach the dock in ``approach_timeout_s`` (something
stands in the way) or misses it, ``TIMEOUT`` when undocking takes longer than ``max_undocking_time``.

The dock (:func:`l2b2_common.dock.dock_geometry`, shared with the simulator and with Nav2's dock database
on the robot): the waypoint ``ladestation`` when the building has one, the robot standing on it with its
back to the charger; otherwise -- no building in maps/ has one yet -- the floor plans' ``home`` ("its
docking spot") is the staging pose and the dock is ``dock_offset_m`` straight behind it, backed onto the
charger. The simulator charges the battery on the same pose (same parameters).

The pose comes from /odom: the simulator's map and odom frames coincide.
"""
from __future__ import annotations

from dataclasses import dataclass
import math
import threading
import time

from action_msgs.msg import GoalStatus
from geometry_msgs.msg import PoseStamped, Quaternion, Twist, Vector3
from nav2_msgs.action import DockRobot, NavigateToPose, UndockRobot
from nav_msgs.msg import Odometry
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import LaserScan

from l2b2_common.config import ConfigError
from l2b2_common.dock import DOCK_OFFSET_M, DOCK_PLACE, STAGING_PLACE, dock_geometry
from l2b2_common.geometry import Pose2D, quaternion_msg_fields, wrap_angle, yaw_from_msg
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.maps import load_waypoints
from l2b2_common.node_main import run_node
from l2b2_common.qos import RELIABLE
from l2b2_common.tunables import ParameterError, declare_tunables, tunable


@dataclass(frozen=True)
class StraightStep:
    """One control step of a straight drive onto a pose: velocities and the errors left."""

    v: float
    w: float
    remaining: float   # along the approach axis (m), negative once past the target
    lateral: float     # off the axis (m)
    heading: float     # yaw error (rad)

    @property
    def arrived(self) -> bool:
        return self.remaining <= 0.01


def straight_step(pose: Pose2D, target: Pose2D, forward: bool, speed: float, *, gain: float = 1.0,
                  max_w: float = 0.6) -> StraightStep:
    """Drive along the target's heading line onto the target, forward or backwards (pure).

    The lateral offset sets a small heading correction (at most 0.35 rad) and the yaw is steered to
    it, so the robot slides onto the line instead of turning on the spot next to the charger.
    """
    ux, uy = math.cos(target.yaw), math.sin(target.yaw)
    d = 1.0 if forward else -1.0
    ex, ey = pose.x - target.x, pose.y - target.y
    remaining = -d * (ex * ux + ey * uy)
    lateral = ux * ey - uy * ex
    heading = wrap_angle(pose.yaw - target.yaw)
    wanted = max(-0.35, min(0.35, -d * 2.0 * lateral))
    w = max(-max_w, min(max_w, 2.0 * wrap_angle(wanted - heading)))
    v = 0.0 if remaining <= 0.01 else d * max(0.03, min(speed, gain * remaining))
    if abs(heading) > 0.6:  # badly turned (a sloppy staging): turn first
        v = 0.0
    return StraightStep(v, w, remaining, lateral, heading)


@dataclass(frozen=True)
class SimDockParams:
    """The simulated dock: where it is and how the approach behaves."""

    waypoints_file: str = tunable('maps/buergerbuero_waypoints.yaml', 'Waypoint file of the building '
                                  '(relative to the share dir).')
    dock_id: str = tunable(DOCK_PLACE, 'The one dock\'s id: DockRobot goals with use_dock_id name it (or leave '
                           'it empty).')
    dock_place: str = tunable(DOCK_PLACE, 'Waypoint of the dock pose (the robot on it, back to the charger); '
                              'when the building has none, the dock is dock_offset_m behind staging_place.')
    staging_place: str = tunable(STAGING_PLACE, 'Waypoint of the staging pose when there is no dock_place '
                                 '(the floor plans\' home, "its docking spot").')
    dock_offset_m: float = tunable(DOCK_OFFSET_M, 'Straight distance between staging pose and dock (m); the '
                                   'simulator\'s dock_offset_m must be the same.', min=0.2, max=3.0)
    approach_speed: float = tunable(0.15, 'Speed of the straight approach and of undocking (m/s).',
                                    min=0.02, max=0.5)
    docking_tolerance_m: float = tunable(0.05, 'Docked when this close to the dock pose, across and along (m).',
                                         min=0.01, max=0.3)
    docking_yaw_tolerance: float = tunable(0.15, 'Docked when the heading is this close to the dock\'s (rad).',
                                           min=0.01, max=1.0)
    approach_timeout_s: float = tunable(30.0, 'Give up the approach (FAILED_TO_CONTROL) after this long, sim s.',
                                        min=1.0, max=600.0)
    robot_radius: float = tunable(0.4, 'Footprint radius: the approach stops for anything in its way (m).',
                                  min=0.1, max=1.5)
    control_rate_hz: float = tunable(20.0, 'Approach controller rate (sim time).', min=1.0, max=100.0)
    server_timeout_s: float = tunable(5.0, 'Wall seconds to wait for the navigate_to_pose server.',
                                      min=0.1, max=60.0)


NEWEST = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)


class _Failed(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class _Canceled(Exception):
    pass


class SimDockServer(LeanNode):
    """Serves DockRobot and UndockRobot for the simulated robot, one goal at a time."""

    def __init__(self, **kwargs):
        super().__init__('docking_server', **kwargs)
        self.p = p = declare_tunables(self, SimDockParams)
        try:
            self.geometry = dock_geometry(load_waypoints(p.waypoints_file), p.dock_place, p.staging_place,
                                          p.dock_offset_m)
        except (KeyError, ConfigError) as exc:
            raise ParameterError(self.get_name(), 'waypoints_file', f'{p.waypoints_file}: no dock: {exc}') from None
        self.health = HealthReporter(self, 'docking_server')
        self._odom: Pose2D | None = None
        self._scan: LaserScan | None = None
        self._busy = threading.Lock()
        self._stop = threading.Event()
        self._docked = False
        self._group = group = ReentrantCallbackGroup()
        self._inputs: list = []  # /odom and /scan, subscribed only while a goal runs (idle, nothing wakes it)
        self._cmd_pub = self.create_publisher(Twist, '/cmd_vel_nav', RELIABLE)
        self._nav = ActionClient(self, NavigateToPose, '/navigate_to_pose', callback_group=group)
        self._dock_server = ActionServer(self, DockRobot, '/dock_robot', execute_callback=self._execute_dock,
                                         goal_callback=self._on_goal, cancel_callback=lambda _h: CancelResponse.ACCEPT,
                                         callback_group=group)
        self._undock_server = ActionServer(self, UndockRobot, '/undock_robot', execute_callback=self._execute_undock,
                                           goal_callback=self._on_goal,
                                           cancel_callback=lambda _h: CancelResponse.ACCEPT, callback_group=group)
        d, s = self.geometry.dock, self.geometry.staging
        self.health.set(OK, f'dock at ({d.x:.2f}, {d.y:.2f}), staging at ({s.x:.2f}, {s.y:.2f})')

    # --- inputs ----------------------------------------------------------------------------------
    def _listen(self) -> None:
        """Subscribe /odom and /scan for the goal now starting: between goals the server sleeps (25 Hz odometry
        and 10 Hz scans kept an idle server at 0.19 of a core)."""
        self._odom, self._scan = None, None
        self._inputs = [self.create_subscription(Odometry, '/odom', self._on_odom, 10, callback_group=self._group),
                        self.create_subscription(LaserScan, '/scan', self._on_scan, NEWEST, callback_group=self._group)]

    def _stop_listening(self) -> None:
        for sub in self._inputs:
            self.destroy_subscription(sub)
        self._inputs = []

    def _on_odom(self, msg: Odometry) -> None:
        p = msg.pose.pose
        self._odom = Pose2D(p.position.x, p.position.y, yaw_from_msg(p.orientation))

    def _on_scan(self, msg: LaserScan) -> None:
        self._scan = msg

    def _on_goal(self, _goal) -> GoalResponse:
        # One docking manoeuvre at a time, as Nav2's server: a second goal is refused, not queued.
        return GoalResponse.REJECT if self._busy.locked() else GoalResponse.ACCEPT

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # --- the actions -------------------------------------------------------------------------------
    def _execute_dock(self, handle):
        """Blocks its executor thread until docked or failed (like the sim navigator's execute)."""
        goal: DockRobot.Goal = handle.request
        result = DockRobot.Result(success=False)
        with self._busy:
            self._listen()
            try:
                if goal.use_dock_id and goal.dock_id not in ('', self.p.dock_id):
                    raise _Failed(DockRobot.Result.DOCK_NOT_IN_DB,
                                  f'unknown dock "{goal.dock_id}" (this server knows "{self.p.dock_id}")')
                if not goal.use_dock_id:
                    raise _Failed(DockRobot.Result.DOCK_NOT_VALID, 'docking at a given pose is not simulated: '
                                  f'use_dock_id with "{self.p.dock_id}"')
                if goal.navigate_to_staging_pose:
                    self._feedback(handle, DockRobot.Feedback.NAV_TO_STAGING_POSE)
                    self._stage(handle, goal.max_staging_time)
                self._feedback(handle, DockRobot.Feedback.CONTROLLING)
                self._drive(handle, self.geometry.dock, forward=False, limit_s=self.p.approach_timeout_s,
                            code=DockRobot.Result.FAILED_TO_CONTROL)
                result.success, result.error_code = True, DockRobot.Result.NONE
                self._docked = True
                handle.succeed()
                self.health.set(OK, 'docked')
            except _Canceled:
                handle.canceled()
            except _Failed as exc:
                result.error_code, result.error_msg = exc.code, str(exc)
                self.health.set(DEGRADED, f'docking failed: {exc}')
                self.get_logger().warning(f'docking failed ({exc.code}): {exc}')
                handle.abort()
            finally:
                self._cmd_pub.publish(Twist())
                self._stop_listening()
        return result

    def _execute_undock(self, handle):
        goal: UndockRobot.Goal = handle.request
        result = UndockRobot.Result(success=False)
        with self._busy:
            self._listen()
            try:
                pose = self._wait_pose()
                d = self.geometry.dock
                if math.hypot(pose.x - d.x, pose.y - d.y) > 0.5:
                    self.get_logger().info('undock: not on the dock, nothing to do')
                else:
                    limit = goal.max_undocking_time if goal.max_undocking_time > 0 else 30.0
                    self._drive(handle, self.geometry.staging, forward=True, limit_s=limit,
                                code=UndockRobot.Result.TIMEOUT)
                result.success, result.error_code = True, UndockRobot.Result.NONE
                self._docked = False
                handle.succeed()
                self.health.set(OK, 'undocked')
            except _Canceled:
                handle.canceled()
            except _Failed as exc:
                result.error_code, result.error_msg = exc.code, str(exc)
                self.health.set(DEGRADED, f'undocking failed: {exc}')
                self.get_logger().warning(f'undocking failed ({exc.code}): {exc}')
                handle.abort()
            finally:
                self._cmd_pub.publish(Twist())
                self._stop_listening()
        return result

    def _feedback(self, handle, state: int) -> None:
        fb = DockRobot.Feedback(state=state)
        handle.publish_feedback(fb)

    def _wait_pose(self) -> Pose2D:
        deadline = time.monotonic() + self.p.server_timeout_s
        while self._odom is None:
            if time.monotonic() > deadline or self._stop.is_set():
                raise _Failed(DockRobot.Result.UNKNOWN, 'no /odom: is the simulator running?')
            self._stop.wait(0.01)
        return self._odom

    def _stage(self, handle, max_time_s: float) -> None:
        """NavigateToPose to the staging pose; FAILED_TO_STAGE when it fails or takes too long."""
        if not self._nav.wait_for_server(timeout_sec=self.p.server_timeout_s):
            raise _Failed(DockRobot.Result.FAILED_TO_STAGE, 'no navigate_to_pose server')
        s = self.geometry.staging
        goal = NavigateToPose.Goal(pose=PoseStamped())
        goal.pose.header.frame_id = 'map'
        goal.pose.header.stamp = self.get_clock().now().to_msg()
        goal.pose.pose.position.x, goal.pose.pose.position.y = s.x, s.y
        goal.pose.pose.orientation = Quaternion(**quaternion_msg_fields(s.yaw))
        done = threading.Event()
        sent = self._nav.send_goal_async(goal)
        sent.add_done_callback(lambda _f: done.set())
        self._wait(done, handle, None)
        nav = sent.result()
        if nav is None or not nav.accepted:
            raise _Failed(DockRobot.Result.FAILED_TO_STAGE, 'staging goal refused by the navigator')
        done.clear()
        outcome = nav.get_result_async()
        outcome.add_done_callback(lambda _f: done.set())
        try:
            finished = self._wait(done, handle, max_time_s if max_time_s > 0 else None)
        except _Canceled:
            nav.cancel_goal_async()
            raise
        if not finished:
            nav.cancel_goal_async()
            raise _Failed(DockRobot.Result.FAILED_TO_STAGE, f'staging pose not reached in {max_time_s:.0f} s')
        res = outcome.result()
        if res is None or res.status != GoalStatus.STATUS_SUCCEEDED:
            why = res.result.error_msg if res is not None and res.result.error_msg else 'navigation failed'
            raise _Failed(DockRobot.Result.FAILED_TO_STAGE, f'staging pose not reached: {why}')

    def _wait(self, done: threading.Event, handle, limit_s: float | None) -> bool:
        """Wait for ``done`` (sim-time limit, honouring cancel); False when the limit passed."""
        start = self._now()
        while not done.wait(0.01):
            if self._stop.is_set():
                raise _Failed(DockRobot.Result.UNKNOWN, 'docking server shutting down')
            if handle.is_cancel_requested:
                raise _Canceled()
            if limit_s is not None and self._now() - start > limit_s:
                return False
        return True

    def _drive(self, handle, target: Pose2D, forward: bool, limit_s: float, code: int) -> None:
        """Straight onto ``target`` at the approach speed, stopping for anything in the way."""
        p = self.p
        start = self._now()
        period = 1.0 / p.control_rate_hz
        next_t = start
        blocked = False
        while True:
            if self._stop.is_set():
                raise _Failed(code, 'docking server shutting down')
            if handle.is_cancel_requested:
                raise _Canceled()
            now = self._now()
            if now < next_t:
                self._stop.wait(0.005)
                continue
            next_t = now + period
            pose = self._wait_pose()
            step = straight_step(pose, target, forward, p.approach_speed)
            if step.arrived:
                if abs(step.lateral) <= p.docking_tolerance_m and abs(step.heading) <= p.docking_yaw_tolerance:
                    return
                raise _Failed(code, f'missed the pose by {step.lateral:.2f} m across, {step.heading:.2f} rad')
            blocked = step.v != 0.0 and self._in_the_way(step.remaining, forward)
            if now - start > limit_s:
                why = 'something in the way' if blocked else 'not reached'
                raise _Failed(code, f'{why} after {limit_s:.0f} s ({step.remaining:.2f} m left)')
            v = 0.0 if blocked else step.v
            self._cmd_pub.publish(Twist(linear=Vector3(x=float(v)), angular=Vector3(z=float(step.w))))

    def _in_the_way(self, remaining: float, forward: bool) -> bool:
        """A scan point in the strip the robot is about to sweep (the charger itself lies just past it)."""
        scan = self._scan
        if scan is None:
            return False
        r = self.p.robot_radius
        reach = remaining + r - 0.02
        d = 1.0 if forward else -1.0
        for i, rng in enumerate(scan.ranges):
            if not scan.range_min <= rng <= scan.range_max:
                continue
            a = scan.angle_min + i * scan.angle_increment
            along, across = d * rng * math.cos(a), rng * math.sin(a)
            if 0.0 < along < reach and abs(across) < r:
                return True
        return False

    def close(self) -> None:
        self._stop.set()


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: SimDockServer(), args, threads=4)


if __name__ == '__main__':
    raise SystemExit(main())

"""``l2b2-sim-navigator``: the ``NavigateToPose`` action server standing in for Nav2 in simulation.

Honours Nav2's contract, so the escort drives it exactly as it drives Nav2 on the robot: the same
action (``/navigate_to_pose``, nav2_msgs), the same feedback (current_pose, navigation_time,
estimated_time_remaining, number_of_recoveries, distance_remaining), cancel, preemption by a newer
goal, and abort with ``UNKNOWN`` and an ``error_msg`` when the goal lies in an obstacle or no path
exists. It plans on the generated map (``l2b2_sim.planner``), follows with pure pursuit
(``l2b2_sim.follower``), slows and stops for what /scan shows in the way and re-plans around it or
gives up (``l2b2_sim.way_guard``, planning with the marks of ``l2b2_sim.obstacles``), and aborts at
once on the emergency stop (/safety/state). Publishes /cmd_vel_nav (the safety gate passes it on to
/cmd_vel), /plan and the latched /map. Idle (no goal) it runs no timer.
"""
from __future__ import annotations

import array
from dataclasses import dataclass, field
import math
import threading

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import PoseStamped, Quaternion, Twist, Vector3
from l2b2_interfaces.msg import SafetyState
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import OccupancyGrid, Path
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import LaserScan

from l2b2_common.config import ConfigError, share_dir
from l2b2_common.frames import FrameTree
from l2b2_common.geometry import Pose2D, quaternion_msg_fields, yaw_from_msg
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.maps import OccupancyMap
from l2b2_common.node_main import run_node
from l2b2_common.qos import LATCHED, RELIABLE
from l2b2_common.tf_listener import TfListener, stamp_seconds
from l2b2_common.tunables import ParameterError, declare_tunables, tunable
from l2b2_sim.follower import FollowerParams, PathFollower
from l2b2_sim.obstacles import ObstacleLayer, ObstacleParams
from l2b2_sim.planner import Costmap, CostParams, plan
from l2b2_sim.way_guard import GuardParams, WayGuard


@dataclass(frozen=True)
class SimNavigatorParams:
    """The node's own settings; planning, following, the way guard and the obstacle layer each declare theirs."""

    map: str = tunable('buergerbuero', 'Nav2 map: a name under maps/ or a path to a map_server .yaml.')
    control_rate_hz: float = tunable(10.0, 'Controller rate (sim time).', min=1.0, max=100.0)
    transform_timeout_s: float = tunable(2.0, 'Abort with TF_ERROR when the robot pose is unknown this long (sim s).',
                                         min=0.1, max=60.0)


#: Scan points this close to the map's own walls and furniture are those, not people (m).
STATIC_TOLERANCE = 0.2
NEWEST_SCAN = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
UNKNOWN = NavigateToPose.Result.UNKNOWN
TF_ERROR = NavigateToPose.Result.TF_ERROR
NONE = NavigateToPose.Result.NONE


def _duration(seconds: float) -> Duration:
    seconds = max(0.0, seconds)
    sec = int(seconds)
    return Duration(sec=sec, nanosec=int((seconds - sec) * 1e9))


@dataclass
class _Goal:
    """One goal being executed, and how it ended (set by the control loop)."""

    handle: object
    x: float
    y: float
    yaw: float
    frame_id: str
    start: float
    ended: threading.Event = field(default_factory=threading.Event)
    guard: WayGuard | None = None
    follower: PathFollower | None = None
    outcome: tuple[str, int, str] | None = None


class SimNavigatorNode(LeanNode):
    """Plans, follows and reports one NavigateToPose goal at a time (a newer goal preempts)."""

    def __init__(self, **kwargs):
        super().__init__('sim_navigator', **kwargs)
        self.p = p = declare_tunables(self, SimNavigatorParams)
        self.cost_params = declare_tunables(self, CostParams)
        self.follower_params = declare_tunables(self, FollowerParams)
        self.guard_params = declare_tunables(self, GuardParams)
        self.obstacle_params = declare_tunables(self, ObstacleParams)
        self.health = HealthReporter(self, 'sim_navigator')
        map_path = share_dir() / 'maps' / f'{p.map}.yaml' if not p.map.endswith('.yaml') else share_dir() / p.map
        try:
            self.grid = OccupancyMap.from_yaml(map_path)
        except (OSError, ValueError, KeyError, ConfigError) as exc:
            raise ParameterError(self.get_name(), 'map', f'cannot load {map_path}: {exc}') from None
        self.costmap = Costmap(self.grid, self.cost_params)
        self.obstacles = ObstacleLayer(self.grid, self.costmap.static_distance <= STATIC_TOLERANCE,
                                       self.obstacle_params)
        #: Planning times (ms) of this run: the nav benchmark reads them, the log shows each.
        self.plan_times_ms: list[float] = []
        self._lock = threading.Lock()
        self._control_lock = threading.Lock()  # one control step at a time (timer, new goal, estop)
        self._goal: _Goal | None = None
        self._scan: LaserScan | None = None
        self._scan_in_layer: LaserScan | None = None
        self._estop = False

        self._cmd_pub = self.create_publisher(Twist, '/cmd_vel_nav', RELIABLE)
        self._plan_pub = self.create_publisher(Path, '/plan', RELIABLE)
        self._map_pub = self.create_publisher(OccupancyGrid, '/map', LATCHED)
        # Only the newest pose and scan matter: a short history never feeds the controller stale data.
        self.tf = TfListener(self, FrameTree(history=20), depth=2)
        self.create_subscription(LaserScan, '/scan', self._on_scan, NEWEST_SCAN)
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED)
        self._server = ActionServer(
            self, NavigateToPose, '/navigate_to_pose', execute_callback=self._execute,
            goal_callback=lambda _goal: GoalResponse.ACCEPT, cancel_callback=lambda _h: CancelResponse.ACCEPT,
            callback_group=ReentrantCallbackGroup())
        # Both timers run only while a goal does: an idle navigator waits for goals and nothing else.
        self._control_timer = self.create_timer(1.0 / p.control_rate_hz, self._control, autostart=False,
                                                callback_group=MutuallyExclusiveCallbackGroup())
        # Cancel requests are answered even while simulated time stands still (sim paused or gone).
        self._cancel_timer = self.create_timer(0.1, self._check_cancel, callback_group=MutuallyExclusiveCallbackGroup(),
                                               clock=Clock(clock_type=ClockType.STEADY_TIME), autostart=False)
        self._wake = self.create_guard_condition(lambda: None)
        self._publish_map()
        self.health.set(OK, f'ready: map {map_path.name}, inflation {self.costmap.inflate_ms:.0f} ms')

    # --- inputs ----------------------------------------------------------------------------------
    def _on_scan(self, msg: LaserScan) -> None:
        self._scan = msg

    def _on_safety(self, msg: SafetyState) -> None:
        self._estop = msg.estop_active
        if self._estop:
            self._control()  # abort at once, not at the next tick

    def _pose(self, at: float | None = None) -> Pose2D | None:
        """base_link on the map (now, or at the stamp ``at``); map→odom may be missing (map and odom
        coincide in the simulator)."""
        odom = self.tf.tree.lookup('odom', 'base_link', at)
        if odom is None:
            return None
        map_odom = self.tf.tree.lookup('map', 'odom', at)
        return odom if map_odom is None else map_odom.compose(odom)

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # --- the action --------------------------------------------------------------------------------
    def _execute(self, handle):
        """Blocks its executor thread until the control loop ends the goal.

        Deliberately not a coroutine: rclpy re-polls a pending coroutine on every executor wake-up, so
        awaiting the outcome kept a core busy for as long as the robot drove.
        """
        pose = handle.request.pose
        goal = _Goal(handle, pose.pose.position.x, pose.pose.position.y, yaw_from_msg(pose.pose.orientation),
                     pose.header.frame_id, self._now())
        goal.guard = WayGuard(self.guard_params, self.cost_params.robot_radius, self.follower_params.max_linear_speed)
        with self._lock:
            previous, self._goal = self._goal, goal
            self.obstacles.clear()  # not watched while idle: marks of unknown age
        if previous is not None:
            self._finish(previous, 'aborted', UNKNOWN, 'preempted by a newer goal')
        self._control_timer.reset()
        self._cancel_timer.reset()
        self._wake.trigger()  # timers restarted from this thread must wake the executor
        self._control()
        goal.ended.wait()
        state, code, message = goal.outcome
        result = NavigateToPose.Result(error_code=code, error_msg=message)
        if state == 'succeeded':
            handle.succeed()
        elif state == 'canceled':
            handle.canceled()
        else:
            handle.abort()
            self.get_logger().warning(f'goal ({goal.x:.2f}, {goal.y:.2f}) aborted: {message}')
        return result

    def _finish(self, goal: _Goal, state: str, code: int = NONE, message: str = '') -> None:
        with self._lock:
            if goal.outcome is not None:
                return
            goal.outcome = (state, code, message)
            goal.ended.set()  # first: the execute thread must return even if the stop below fails (shutdown)
            if goal.guard is not None and goal.guard.blocked_since is not None:
                self.health.set(OK, f'goal {state}')
            if self._goal is goal:
                self._goal = None
                self._control_timer.cancel()
                self._cancel_timer.cancel()
                self._cmd_pub.publish(Twist())

    def _check_cancel(self) -> None:
        with self._lock:
            goal = self._goal
        if goal is not None and goal.outcome is None and goal.handle.is_cancel_requested:
            with self._control_lock:
                self._finish(goal, 'canceled')

    def _control(self) -> None:
        with self._control_lock:
            self._control_step()

    def _control_step(self) -> None:
        with self._lock:
            goal = self._goal
        if goal is None or goal.outcome is not None:
            return
        if goal.handle.is_cancel_requested:
            return self._finish(goal, 'canceled')
        if self._estop:
            return self._finish(goal, 'aborted', UNKNOWN, 'emergency stop active')
        if goal.frame_id not in ('map', ''):
            return self._finish(goal, 'aborted', TF_ERROR, f'goal frame {goal.frame_id!r} is not "map"')
        now = self._now()
        pose = self._pose()
        if pose is None:
            if now - goal.start > self.p.transform_timeout_s:
                self._finish(goal, 'aborted', TF_ERROR, 'no transform map -> base_link (is the base running?)')
            return
        if goal.follower is None and not self._plan(goal, pose):
            return
        self._update_obstacles()
        cmd = goal.follower.update(pose)
        if cmd.done:
            self.get_logger().info(f'goal ({goal.x:.2f}, {goal.y:.2f}) reached in {now - goal.start:.1f} s')
            return self._finish(goal, 'succeeded')
        guard = goal.guard
        points = [r for r, _ in self._dynamic_points(pose, guard.reach)] if cmd.v > 0 else []
        step = guard.step(now, cmd.v, cmd.w, points)
        if step.blocked_now:
            self.get_logger().info('way blocked: stopping')
            self.health.set(DEGRADED, 'way blocked: waiting', x=round(pose.x, 2), y=round(pose.y, 2))
        elif step.cleared_now:
            self.health.set(OK, 'navigating')
        if step.abort:
            return self._finish(goal, 'aborted', UNKNOWN, step.abort)
        if step.replan:
            self._replan_around_obstacles(goal, pose)
        self._cmd_pub.publish(Twist(linear=_vec(step.v), angular=_vec(0.0, 0.0, step.w)))
        self._feedback(goal, pose, cmd.remaining, now)

    def _plan(self, goal: _Goal, pose: Pose2D) -> bool:
        result = plan(self.costmap, (pose.x, pose.y), (goal.x, goal.y))
        self.plan_times_ms.append(result.plan_ms)
        self.get_logger().info(f'planned to ({goal.x:.2f}, {goal.y:.2f}) in {result.plan_ms:.1f} ms: '
                               + (f'{result.length:.1f} m' if result.ok else result.error))
        if not result.ok:
            self._finish(goal, 'aborted', UNKNOWN, result.error)
            return False
        goal.follower = PathFollower(result.path, goal.yaw, self.follower_params)
        self._publish_plan(result.path)
        return True

    def _replan_around_obstacles(self, goal: _Goal, pose: Pose2D) -> None:
        """Plan again with what the obstacle layer holds near the robot; keep the path if there is none."""
        points = self.obstacles.points_near(pose.x, pose.y, self.obstacle_params.obstacle_range)
        self.costmap.set_extra_obstacles(points, self.obstacle_params.obstacle_radius)
        result = plan(self.costmap, (pose.x, pose.y), (goal.x, goal.y))
        self.costmap.clear_extra_obstacles()
        self.plan_times_ms.append(result.plan_ms)
        if result.ok:
            self.get_logger().info(f'replanned around an obstacle: {result.length:.1f} m')
            goal.follower = PathFollower(result.path, goal.yaw, self.follower_params)
            self._publish_plan(result.path)
        else:
            self.get_logger().info(f'no way around the obstacle yet ({result.error}); waiting')

    def _update_obstacles(self) -> None:
        """Fold the newest scan into the obstacle layer once, from where the robot was when it was taken
        (the laser sits on the base's axis): placed with the pose of a moment later, a turning robot
        would mark the walls a little off their place, as ghosts only a later ray clears."""
        scan = self._scan
        if scan is None or scan is self._scan_in_layer:
            return
        self._scan_in_layer = scan
        sensor = self._pose(stamp_seconds(scan.header.stamp))
        if sensor is not None:
            # The simulated lidar sees all round, so the newest scan is the whole picture within its range.
            # Marks kept across scans piled up as ghosts wherever a scan was placed a little off (a busy,
            # faster-than-real-time sim): re-planning around them pressed the robot into walls until it
            # wedged (escort tests failed returning home). So each scan starts the layer afresh.
            self.obstacles.clear()
            self.obstacles.update(sensor, scan.ranges, scan.angle_min, scan.angle_increment, scan.range_min,
                                  scan.range_max)

    def _scan_points(self, max_range: float) -> list[tuple[float, float]]:
        """Lidar points in the robot frame (the laser sits on the base's axis)."""
        scan = self._scan
        if scan is None:
            return []
        out = []
        for i, r in enumerate(scan.ranges):
            if scan.range_min <= r <= min(max_range, scan.range_max):
                a = scan.angle_min + i * scan.angle_increment
                out.append((r * math.cos(a), r * math.sin(a)))
        return out

    def _dynamic_points(self, pose: Pose2D, max_range: float):
        """Scan points that are not the map's walls or furniture (people, things left about):
        (robot-frame point, map-frame point) pairs. The static map is the planner's business."""
        c, s = math.cos(pose.yaw), math.sin(pose.yaw)
        out = []
        for x, y in self._scan_points(max_range):
            mx, my = pose.x + c * x - s * y, pose.y + s * x + c * y
            if not self.costmap.is_static(mx, my, STATIC_TOLERANCE):
                out.append(((x, y), (mx, my)))
        return out

    def _feedback(self, goal: _Goal, pose: Pose2D, remaining: float, now: float) -> None:
        fb = NavigateToPose.Feedback()
        fb.current_pose.header.frame_id = 'map'
        fb.current_pose.header.stamp = self.get_clock().now().to_msg()
        fb.current_pose.pose.position.x, fb.current_pose.pose.position.y = pose.x, pose.y
        fb.current_pose.pose.orientation = Quaternion(**quaternion_msg_fields(pose.yaw))
        fb.navigation_time = _duration(now - goal.start)
        fb.estimated_time_remaining = _duration(remaining / max(self.follower_params.max_linear_speed, 1e-3))
        fb.number_of_recoveries = goal.guard.recoveries
        fb.distance_remaining = float(remaining)
        goal.handle.publish_feedback(fb)

    # --- outputs ---------------------------------------------------------------------------------
    def _publish_plan(self, path: list[tuple[float, float]]) -> None:
        msg = Path()
        msg.header.frame_id = 'map'
        msg.header.stamp = self.get_clock().now().to_msg()
        for x, y in path[::4] + [path[-1]]:
            ps = PoseStamped()
            ps.header = msg.header
            ps.pose.position.x, ps.pose.position.y = x, y
            ps.pose.orientation.w = 1.0
            msg.poses.append(ps)
        self._plan_pub.publish(msg)

    def _publish_map(self) -> None:
        g = self.grid
        msg = OccupancyGrid()
        msg.header.frame_id = 'map'
        msg.info.resolution = g.resolution
        msg.info.height, msg.info.width = g.height, g.width
        msg.info.origin.position.x, msg.info.origin.position.y = g.origin[0], g.origin[1]
        msg.info.origin.orientation = Quaternion(**quaternion_msg_fields(g.origin[2]))
        msg.data = array.array('b', g.data.ravel().tobytes())
        self._map_pub.publish(msg)

    def close(self) -> None:
        with self._lock:
            goal = self._goal
        if goal is not None:
            try:
                self._finish(goal, 'aborted', UNKNOWN, 'navigator shutting down')
            except Exception as exc:  # noqa: BLE001 - shutting down: nothing left to tell
                self.get_logger().debug(f'close: {exc}')


def _vec(x: float = 0.0, y: float = 0.0, z: float = 0.0) -> Vector3:
    return Vector3(x=float(x), y=float(y), z=float(z))


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: SimNavigatorNode(), args, threads=4)


if __name__ == '__main__':
    raise SystemExit(main())

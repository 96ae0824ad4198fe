"""``l2b2-sim-navigator``: the ``NavigateToPose`` action server standing in for Nav2 in simulation.

Honours Nav2's contract, so the escort drives it exactly as it drives Nav2 on the robot: the same
action (``/navigate_to_pose``, nav2_msgs), the same feedback (current_pose, navigation_time,
estimated_time_remaining, number_of_recoveries, distance_remaining), cancel, preemption by a newer
goal, and abort with ``UNKNOWN`` and an ``error_msg`` when the goal lies in an obstacle or no path
exists. It plans on the generated map (``l2b2_sim.planner``), follows with pure pursuit
(``l2b2_sim.follower``), stops when /scan shows something in the way, replans around it when it
stays, and aborts at once on the emergency stop (/safety/state). Publishes /cmd_vel_nav (the safety
gate passes it on to /cmd_vel), /plan and the latched /map.
"""
from __future__ import annotations

import array
from dataclasses import dataclass, field
import math
import threading

from builtin_interfaces.msg import Duration
from geometry_msgs.msg import PoseStamped, Twist, Vector3
from l2b2_interfaces.msg import SafetyState
from nav2_msgs.action import NavigateToPose
from nav_msgs.msg import OccupancyGrid, Path
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup, ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import LaserScan
from tf2_msgs.msg import TFMessage

from l2b2_common.config import share_dir
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.node_main import run_node
from l2b2_common.params import Param, ParameterError, declare_params
from l2b2_common.qos import LATCHED, RELIABLE
from l2b2_sim.diff_drive import Pose2D
from l2b2_sim.follower import FollowerParams, PathFollower, clearance_ahead, stopping_distance, stopping_speed
from l2b2_sim.planner import Costmap, CostParams, load_map, plan

PARAMS = [
    Param('map', 'buergerbuero', 'Nav2 map: a name under maps/ or a path to a map_server .yaml.'),
    Param('robot_radius', 0.4, 'Footprint radius; closer to an obstacle is lethal, metres.', min=0.1, max=1.5),
    Param('inflation_radius', 0.9, 'Cells closer than this to an obstacle cost more, metres.', min=0.1, max=5.0),
    Param('cost_scaling_factor', 4.0, 'Exponential decay of the inflation cost (as Nav2).', min=0.1, max=20.0),
    Param('inflation_weight', 2, 'Extra step cost at the inscribed radius (free cell: 1).', min=0, max=250),
    Param('control_rate_hz', 10.0, 'Controller rate (sim time).', min=1.0, max=100.0),
    Param('max_linear_speed', 0.8, 'm/s', min=0.05, max=3.0),
    Param('max_angular_speed', 1.2, 'rad/s', min=0.1, max=6.0),
    Param('lookahead', 0.8, 'Pure-pursuit lookahead distance, metres.', min=0.1, max=5.0),
    Param('xy_goal_tolerance', 0.25, 'Goal reached within this distance, metres.', min=0.01, max=2.0),
    Param('yaw_goal_tolerance', 0.25, 'Goal heading reached within this angle, radians.', min=0.01, max=3.2),
    Param('stop_distance', 0.45, 'Stop when a scan point is this close ahead of the footprint, metres.',
          min=0.05, max=3.0),
    Param('max_linear_decel', 1.0, 'Braking the base can do, m/s^2: the robot slows toward what is ahead '
          'so that it can always stop stop_distance short of it.', min=0.1, max=10.0),
    Param('reaction_time_s', 0.2, 'Time before a stop command takes effect (a scan and a control period), s.',
          min=0.0, max=2.0),
    Param('replan_after_blocked_s', 2.0, 'Replan around what blocks the way after this long (sim s).',
          min=0.1, max=60.0),
    Param('blocked_timeout_s', 60.0, 'Abort when still blocked after this long (sim s).', min=1.0, max=3600.0),
    Param('obstacle_radius', 0.35, 'Radius marked around scan points when replanning, metres.', min=0.05, max=2.0),
    Param('obstacle_range', 3.0, 'Scan points within this range count as obstacles when replanning, metres.',
          min=0.5, max=12.0),
    Param('transform_timeout_s', 2.0, 'Abort with TF_ERROR when the robot pose is unknown this long (sim s).',
          min=0.1, max=60.0),
]

NEWEST_SCAN = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
UNKNOWN = NavigateToPose.Result.UNKNOWN
TF_ERROR = NavigateToPose.Result.TF_ERROR
NONE = NavigateToPose.Result.NONE
#: Below this allowed speed the way counts as blocked (the robot would only creep).
MIN_CREEP_SPEED = 0.05


def _yaw(q) -> float:
    return math.atan2(2.0 * (q.w * q.z + q.x * q.y), 1.0 - 2.0 * (q.y * q.y + q.z * q.z))


def _compose(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    ax, ay, ayaw = a
    bx, by, byaw = b
    c, s = math.cos(ayaw), math.sin(ayaw)
    return ax + c * bx - s * by, ay + s * bx + c * by, ayaw + byaw


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
    follower: PathFollower | None = None
    recoveries: int = 0
    blocked_since: float | None = None
    last_replan: float = -math.inf
    outcome: tuple[str, int, str] | None = None


class SimNavigatorNode(Node):
    """Plans, follows and reports one NavigateToPose goal at a time (a newer goal preempts)."""

    def __init__(self, **kwargs):
        super().__init__('sim_navigator', **kwargs)
        self.p = p = declare_params(self, PARAMS)
        self.health = HealthReporter(self, 'sim_navigator')
        map_path = share_dir() / 'maps' / f'{p.map}.yaml' if not p.map.endswith('.yaml') else share_dir() / p.map
        try:
            self.grid = load_map(map_path)
        except (OSError, ValueError, KeyError) as exc:
            raise ParameterError(self.get_name(), 'map', f'cannot load {map_path}: {exc}') from None
        self.costmap = Costmap(self.grid, CostParams(p.robot_radius, p.inflation_radius, p.cost_scaling_factor,
                                                     inflation_weight=p.inflation_weight))
        self.follower_params = FollowerParams(p.max_linear_speed, p.max_angular_speed, p.lookahead,
                                              p.xy_goal_tolerance, p.yaw_goal_tolerance)
        #: Planning times (ms) of this run: the nav benchmark reads them, the log shows each.
        self.plan_times_ms: list[float] = []
        self._lock = threading.Lock()
        self._control_lock = threading.Lock()  # one control step at a time (timer, new goal, estop)
        self._goal: _Goal | None = None
        self._transforms: dict[tuple[str, str], tuple[float, float, float]] = {}
        self._scan: LaserScan | None = None
        self._estop = False

        self._cmd_pub = self.create_publisher(Twist, '/cmd_vel_nav', RELIABLE)
        self._plan_pub = self.create_publisher(Path, '/plan', RELIABLE)
        self._map_pub = self.create_publisher(OccupancyGrid, '/map', LATCHED)
        # Only the newest pose and scan matter: a short queue never feeds the controller stale data.
        self.create_subscription(TFMessage, '/tf', self._on_tf, QoSProfile(depth=2))
        self.create_subscription(LaserScan, '/scan', self._on_scan, NEWEST_SCAN)
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED)
        self._server = ActionServer(
            self, NavigateToPose, '/navigate_to_pose', execute_callback=self._execute,
            goal_callback=lambda _goal: GoalResponse.ACCEPT, cancel_callback=lambda _h: CancelResponse.ACCEPT,
            callback_group=ReentrantCallbackGroup())
        self.create_timer(1.0 / p.control_rate_hz, self._control, callback_group=MutuallyExclusiveCallbackGroup())
        # Cancel requests are answered even while simulated time stands still (sim paused or gone).
        self.create_timer(0.1, self._check_cancel, callback_group=MutuallyExclusiveCallbackGroup(),
                          clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._publish_map()
        self.health.set(OK, f'ready: map {map_path.name}, inflation {self.costmap.inflate_ms:.0f} ms')

    # --- inputs ----------------------------------------------------------------------------------
    def _on_tf(self, msg: TFMessage) -> None:
        for t in msg.transforms:
            tr = t.transform
            self._transforms[(t.header.frame_id, t.child_frame_id)] = (
                tr.translation.x, tr.translation.y, _yaw(tr.rotation))

    def _on_scan(self, msg: LaserScan) -> None:
        self._scan = msg

    def _on_safety(self, msg: SafetyState) -> None:
        self._estop = msg.estop_active
        if self._estop:
            self._control()  # abort at once, not at the next tick

    def _pose(self) -> Pose2D | None:
        odom = self._transforms.get(('odom', 'base_link'))
        if odom is None:
            return None
        x, y, yaw = _compose(self._transforms.get(('map', 'odom'), (0.0, 0.0, 0.0)), odom)
        return Pose2D(x, y, math.atan2(math.sin(yaw), math.cos(yaw)))

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # --- the action --------------------------------------------------------------------------------
    def _execute(self, handle):
        """Blocks its executor thread until the control loop ends the goal.

        Deliberately not a coroutine: rclpy re-polls a pending coroutine on every executor wake-up, so
        awaiting the outcome kept a core busy for as long as the robot drove.
        """
        pose = handle.request.pose
        goal = _Goal(handle, pose.pose.position.x, pose.pose.position.y, _yaw(pose.pose.orientation),
                     pose.header.frame_id, self._now())
        with self._lock:
            previous, self._goal = self._goal, goal
        if previous is not None:
            self._finish(previous, 'aborted', UNKNOWN, 'preempted by a newer goal')
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
            if goal.blocked_since is not None:
                self.health.set(OK, f'goal {state}')
            if self._goal is goal:
                self._goal = None
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
        cmd = goal.follower.update(pose)
        if cmd.done:
            self.get_logger().info(f'goal ({goal.x:.2f}, {goal.y:.2f}) reached in {now - goal.start:.1f} s')
            return self._finish(goal, 'succeeded')
        v, w = cmd.v, cmd.w
        limit = self._speed_limit(pose) if v > 0 else math.inf
        if v > 0 and limit < MIN_CREEP_SPEED:
            v = w = 0.0
            if goal.blocked_since is None:
                goal.blocked_since = now
                self.get_logger().info('way blocked: stopping')
                self.health.set(DEGRADED, 'way blocked: waiting', x=round(pose.x, 2), y=round(pose.y, 2))
            elif now - goal.blocked_since > self.p.blocked_timeout_s:
                return self._finish(goal, 'aborted', UNKNOWN,
                                    f'way blocked for {self.p.blocked_timeout_s:.0f} s')
            elif (now - goal.blocked_since >= self.p.replan_after_blocked_s
                  and now - goal.last_replan >= self.p.replan_after_blocked_s):
                goal.last_replan = now
                goal.recoveries += 1
                self._replan_around_obstacles(goal, pose)
        else:
            if v > limit:  # slow down toward what is ahead, on the same curve
                v, w = limit, w * limit / v
            if goal.blocked_since is not None:
                self.health.set(OK, 'navigating')
            goal.blocked_since = None
        self._cmd_pub.publish(Twist(linear=_vec(v), angular=_vec(0.0, 0.0, w)))
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
        """Mark what the lidar sees near the robot as obstacles and plan again; keep the path if none."""
        points = [m for _, m in self._dynamic_points(pose, self.p.obstacle_range)]
        self.costmap.set_extra_obstacles(points, self.p.obstacle_radius)
        result = plan(self.costmap, (pose.x, pose.y), (goal.x, goal.y))
        self.costmap.clear_extra_obstacles()
        self.plan_times_ms.append(result.plan_ms)
        if result.ok:
            self.get_logger().info(f'replanned around an obstacle: {result.length:.1f} m')
            goal.follower = PathFollower(result.path, goal.yaw, self.follower_params)
            self._publish_plan(result.path)
        else:
            self.get_logger().info(f'no way around the obstacle yet ({result.error}); waiting')

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
            if not self.costmap.is_static(mx, my):
                out.append(((x, y), (mx, my)))
        return out

    def _speed_limit(self, pose: Pose2D) -> float:
        """Fastest forward speed that still stops ``stop_distance`` short of anything the lidar sees ahead."""
        p = self.p
        braking = stopping_distance(p.max_linear_speed, p.max_linear_decel, p.reaction_time_s)
        reach = p.robot_radius + p.stop_distance + braking + 0.2  # all that can matter at full speed
        points = [r for r, _ in self._dynamic_points(pose, reach)]
        free = clearance_ahead(points, p.robot_radius) - p.stop_distance
        return stopping_speed(free, p.max_linear_decel, p.reaction_time_s)

    def _feedback(self, goal: _Goal, pose: Pose2D, remaining: float, now: float) -> None:
        fb = NavigateToPose.Feedback()
        fb.current_pose.header.frame_id = 'map'
        fb.current_pose.header.stamp = self.get_clock().now().to_msg()
        fb.current_pose.pose.position.x, fb.current_pose.pose.position.y = pose.x, pose.y
        fb.current_pose.pose.orientation.z = math.sin(pose.yaw / 2)
        fb.current_pose.pose.orientation.w = math.cos(pose.yaw / 2)
        fb.navigation_time = _duration(now - goal.start)
        fb.estimated_time_remaining = _duration(remaining / max(self.p.max_linear_speed, 1e-3))
        fb.number_of_recoveries = goal.recoveries
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
        msg.info.height, msg.info.width = g.shape
        msg.info.origin.position.x, msg.info.origin.position.y = g.origin_x, g.origin_y
        msg.info.origin.orientation.w = 1.0
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

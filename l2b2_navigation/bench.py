"""``l2b2-bench nav``: escorts over the simulated Bürgerbüro, measured.

For every target (or ``--targets a,b``): reset the simulator, put a visitor behind the robot who
follows it, escort them there with the real stack (simulator, sim navigator, safety gate, person
tracker, escort) on simulated time, and let the robot go home by itself. Per target it reports
success, sim time, driven path length against the shortest grid path, and the planner's time on
this machine; overall the tracker's precision/recall and position error against the simulator's
ground truth (``/sim/visitors``), and the sim speed (sim seconds per wall second).

``SimStack`` is also what the escort tests drive.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
import math
import threading
import time

import numpy as np
from scipy.optimize import linear_sum_assignment

from l2b2_common.bench import BenchResult, percentile
from l2b2_common.catalog import load_catalog

#: A tracked person further than this from every visitor is a false positive (m).
MATCH_DISTANCE = 0.5


# ------------------------------------------------------------------------------- tracker scoring
@dataclass
class TrackerScore:
    """Detections matched one-to-one (Hungarian) with ground truth within ``MATCH_DISTANCE``."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    errors: list[float] = field(default_factory=list)

    def add(self, tracked: list[tuple[float, float]], truth: list[tuple[float, float]]) -> None:
        if tracked and truth:
            cost = np.linalg.norm(np.array(tracked)[:, None, :] - np.array(truth)[None, :, :], axis=2)
            rows, cols = linear_sum_assignment(cost)
            matched = [cost[r, c] for r, c in zip(rows, cols, strict=True) if cost[r, c] <= MATCH_DISTANCE]
        else:
            matched = []
        self.true_positives += len(matched)
        self.false_positives += len(tracked) - len(matched)
        self.false_negatives += len(truth) - len(matched)
        self.errors.extend(float(e) for e in matched)

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else math.nan

    @property
    def recall(self) -> float:
        real = self.true_positives + self.false_negatives
        return self.true_positives / real if real else math.nan


# ------------------------------------------------------------------------------- the stack
class SimStack:
    """Simulator + sim navigator + safety gate + person tracker + escort, on sim time, in one context.

    ``add`` registers a node with a spinning executor (the test harness's ``ros.add``, or the
    benchmark's own). The probe node offers the calls a scenario needs.
    """

    def __init__(self, add: Callable, context, *, real_time_factor: float = 0.0, escort: dict | None = None,
                 simulator: dict | None = None, navigator: dict | None = None, tracker_range: float = 8.0):
        from rclpy.parameter import Parameter

        from l2b2_navigation.escort_node import EscortNode
        from l2b2_navigation.person_tracker_node import PersonTrackerNode
        from l2b2_navigation.safety_gate_node import SafetyGateNode
        from l2b2_sim.live_view import recording_path_from_env
        from l2b2_sim.navigator_node import SimNavigatorNode as NavigatorNode
        from l2b2_sim.simulator_node import SimulatorNode

        def params(values: dict) -> list:
            return [Parameter(k, value=v) for k, v in values.items()]

        sim_time = {'use_sim_time': True}
        self.tracker_range = tracker_range
        # L2B2_RECORD_MCAP=<dir> records each escort test or bench run for Foxglove.
        self.sim = add(SimulatorNode(context=context, parameter_overrides=params(
            {'real_time_factor': real_time_factor, 'lockstep': True, 'mcap_path': recording_path_from_env(),
             **(simulator or {})})))
        self.navigator = add(NavigatorNode(context=context, parameter_overrides=params(
            {**sim_time, **(navigator or {})})))
        # The pybullet simulator and the stand-in navigator speak Twist (as config/stack_sim.yaml says).
        self.gate = add(SafetyGateNode(context=context, parameter_overrides=params(
            {**sim_time, 'stamped_cmd_vel': False})))
        self.tracker = add(PersonTrackerNode(context=context, parameter_overrides=params(
            {**sim_time, 'max_range': tracker_range})))
        self.escort = add(EscortNode(context=context, parameter_overrides=params(
            {**sim_time, 'dwell_s': 1.0, 'give_up_s': 20.0, **(escort or {})})))
        self.probe = add(make_probe(context))
        self.score = TrackerScore()

    def wait_ready(self, wait: Callable, timeout: float = 30.0) -> None:
        """``wait(predicate, timeout, what)``: block until the graph is connected."""
        p = self.probe
        wait(lambda: p.escort.wait_for_server(timeout_sec=0.05), timeout, '/escort action server')
        wait(lambda: self.escort.nav.server_is_ready(), timeout, '/navigate_to_pose server')
        for srv in (p.spawn, p.set_visitor, p.reset, p.estop):
            wait(lambda srv=srv: srv.service_is_ready(), timeout, f'{srv.srv_name} service')
        wait(lambda: p.status and p.truth_count > 0, timeout, '/robot/status and /sim/visitors')


def make_probe(context):
    """The scenario's hands and eyes: sim services, estop, the escort client, and what the robot says."""
    from l2b2_interfaces.action import Escort
    from l2b2_interfaces.msg import RobotStatus, SayRequest, TrackedPeople
    from l2b2_interfaces.srv import SimSetVisitor, SimSpawnVisitor
    from nav_msgs.msg import Odometry
    from rclpy.action import ActionClient
    from rclpy.parameter import Parameter
    from std_srvs.srv import SetBool, Trigger

    from l2b2_common.lean_node import LeanNode

    node = LeanNode('nav_scenario', context=context,
                    parameter_overrides=[Parameter('use_sim_time', value=True)])
    node.escort = ActionClient(node, Escort, '/escort')
    node.spawn = node.create_client(SimSpawnVisitor, '/sim/spawn_visitor')
    node.set_visitor = node.create_client(SimSetVisitor, '/sim/set_visitor')
    node.reset = node.create_client(Trigger, '/sim/reset')
    node.estop = node.create_client(SetBool, '/safety/estop')
    node.status, node.said, node.feedback = [], [], []
    node.modes_seen = set()
    #: The last /robot/status of each mode before the robot left it (where it stood for a hand-over).
    node.last_in_mode = {}
    node.tracked, node.truth = {}, {}
    node.truth_count = 0
    lock = threading.Lock()

    def keep_last(store, key, value, limit=400):
        with lock:
            store[key] = value
            while len(store) > limit:
                store.pop(next(iter(store)))

    def on_truth(msg):
        node.truth_count += 1
        keep_last(node.truth, (msg.header.stamp.sec, msg.header.stamp.nanosec),
                  [(p.position.x, p.position.y) for p in msg.people])

    def on_tracked(msg):
        keep_last(node.tracked, (msg.header.stamp.sec, msg.header.stamp.nanosec),
                  [(p.position.x, p.position.y) for p in msg.people])

    def on_status(msg):
        if node.status and node.status[-1].mode != msg.mode:
            node.last_in_mode[node.status[-1].mode] = node.status[-1]
        node.status.append(msg)
        node.modes_seen.add(msg.mode)
        del node.status[:-50]

    node.create_subscription(TrackedPeople, '/sim/visitors', on_truth, 50)
    node.create_subscription(TrackedPeople, '/people/tracked', on_tracked, 50)
    node.create_subscription(RobotStatus, '/robot/status', on_status, 10)
    node.odom = []

    def on_odom(msg):
        node.odom.append(msg)
        del node.odom[:-5]
    node.create_subscription(Odometry, '/odom', on_odom, 10)
    node.create_subscription(SayRequest, '/speech/say', node.said.append, 10)
    node.lock = lock
    return node


def _score_pending(stack: SimStack) -> None:
    """Score every tracker output against the ground truth of the same scan (same stamp)."""
    probe = stack.probe
    odom = probe.odom[-1] if probe.odom else None  # ground truth (map and odom coincide in the simulator)
    with probe.lock:
        stamps = [s for s in probe.tracked if s in probe.truth]
        pairs = [(probe.tracked.pop(s), probe.truth.pop(s)) for s in stamps]
    if odom is None:
        return
    rx, ry = odom.pose.pose.position.x, odom.pose.pose.position.y
    for tracked, truth in pairs:
        # Only people the lidar could see count: within the tracker's range of the robot.
        visible = [(x, y) for x, y in truth if math.hypot(x - rx, y - ry) <= stack.tracker_range - 0.5]
        tracked = [(x, y) for x, y in tracked if math.hypot(x - rx, y - ry) <= stack.tracker_range - 0.5]
        stack.score.add(tracked, visible)


# ------------------------------------------------------------------------------- scenario helpers
class Scenario:
    """Blocking helpers over a running ``SimStack`` (used by the benchmark and the escort tests)."""

    def __init__(self, stack: SimStack, wait: Callable, wait_future: Callable):
        self.stack, self.wait, self.wait_future = stack, wait, wait_future
        self.probe = stack.probe

    def call(self, client, request, what: str):
        response = self.wait_future(client.call_async(request), 30.0, what)
        if hasattr(response, 'success') and not response.success:
            raise RuntimeError(f'{what} failed: {response.message}')
        return response

    def reset(self) -> None:
        """Robot back at home, no visitors; returns once odometry shows the new pose."""
        from std_srvs.srv import Trigger
        self.probe.odom.clear()
        self.call(self.probe.reset, Trigger.Request(), '/sim/reset')
        self.probe.odom.clear()
        self.wait(lambda: self.probe.odom, 20.0, '/odom after reset')

    def robot_pose(self) -> tuple[float, float, float]:
        """Ground-truth pose from the simulator's odometry (map and odom coincide in the simulator)."""
        self.wait(lambda: self.probe.odom, 20.0, '/odom')
        pose = self.probe.odom[-1].pose.pose
        return pose.position.x, pose.position.y, 2.0 * math.atan2(pose.orientation.z, pose.orientation.w)

    def spawn_visitor(self, x: float, y: float, behaviour: str = 'stop', speed: float = 0.0) -> int:
        from l2b2_interfaces.srv import SimSpawnVisitor
        req = SimSpawnVisitor.Request(x=float(x), y=float(y), behaviour=behaviour, speed=float(speed))
        return self.call(self.probe.spawn, req, '/sim/spawn_visitor').id

    def spawn_behind(self, distance: float = 1.0, behaviour: str = 'follow', speed: float = 1.0,
                     towards: tuple[float, float] | None = None) -> int:
        """A visitor ``distance`` behind the robot: opposite its heading, or opposite ``towards`` (where it will go)."""
        x, y, yaw = self.robot_pose()
        if towards is not None:
            yaw = math.atan2(towards[1] - y, towards[0] - x)
        return self.spawn_visitor(x - distance * math.cos(yaw), y - distance * math.sin(yaw), behaviour, speed)

    def first_heading_point(self, target: str, along: float = 1.5) -> tuple[float, float]:
        """Where the planned path home → target is ``along`` metres out: the visitor waits opposite it."""
        from l2b2_common.maps import load_waypoints
        from l2b2_sim.planner import Costmap, plan
        x, y, _ = self.robot_pose()
        goal = load_waypoints()[load_catalog()[target].waypoint] if target in load_catalog() else None
        if goal is None:
            return x + 1.0, y
        grid = _shared_grid()
        path = plan(Costmap(grid), (x, y), (goal.x, goal.y)).path
        for px, py in path:
            if math.hypot(px - x, py - y) >= along:
                return px, py
        return (goal.x, goal.y)

    def set_visitor(self, vid: int, behaviour: str, speed: float = 0.0, goal: tuple[float, float] | None = None):
        from l2b2_interfaces.srv import SimSetVisitor
        req = SimSetVisitor.Request(id=vid, behaviour=behaviour, speed=float(speed), use_goal=goal is not None)
        if goal is not None:
            req.goal_x, req.goal_y = map(float, goal)
        self.call(self.probe.set_visitor, req, '/sim/set_visitor')

    def estop(self, engage: bool) -> None:
        from std_srvs.srv import SetBool
        self.call(self.probe.estop, SetBool.Request(data=engage), '/safety/estop')

    def send(self, target: str, with_visitor: bool = True, language: str = 'de', visitor: int = 0):
        from l2b2_interfaces.action import Escort
        goal = Escort.Goal(target_id=target, language=language, with_visitor=with_visitor, visitor_track_id=visitor)
        self.probe.feedback.clear()
        self.probe.modes_seen.clear()
        self.probe.last_in_mode.clear()
        handle = self.wait_future(self.probe.escort.send_goal_async(
            goal, feedback_callback=lambda m: self.probe.feedback.append(m.feedback)), 30.0, 'escort goal response')
        if not handle.accepted:
            raise RuntimeError('escort goal rejected')
        return handle

    def result(self, handle, timeout: float = 240.0):
        return self.wait_future(handle.get_result_async(), timeout, 'escort result')

    def wait_home(self, timeout: float = 240.0) -> None:
        """Until the robot has returned home by itself and is idle there."""
        self.wait(lambda: 'returning' in self.probe.modes_seen, timeout, 'robot returning')
        self.wait(lambda: self.probe.status[-1].mode == 'idle', timeout, 'robot home and idle')


_GRID = {}


def _shared_grid():
    if 'grid' not in _GRID:
        import json

        from l2b2_common.maps import OccupancyMap
        from l2b2_sim.world import map_file, world_file
        _GRID['grid'] = OccupancyMap.from_yaml(map_file(json.loads(world_file('buergerbuero').read_text(encoding='utf-8'))))
    return _GRID['grid']


# ------------------------------------------------------------------------------- benchmark
def planning_times(targets: list[str], repeats: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Wall time of the sim navigator's planner (inflated costmap + A*) home → target, on this machine."""
    import json

    from l2b2_common.maps import OccupancyMap, load_waypoints
    from l2b2_sim.planner import Costmap, plan, shortest_grid_path_length
    from l2b2_sim.world import map_file, world_file
    world = json.loads(world_file('buergerbuero').read_text(encoding='utf-8'))
    grid = OccupancyMap.from_yaml(map_file(world))
    costmap = Costmap(grid)
    waypoints = load_waypoints()
    catalog = load_catalog()
    home = waypoints[catalog.home_waypoint]
    times, shortest = {}, {}
    for target in targets:
        goal = waypoints[catalog[target].waypoint]
        times[target] = []
        for _ in range(repeats):  # there and back, as the escort and the return drive it
            times[target].append(plan(costmap, (home.x, home.y), (goal.x, goal.y)).plan_ms)
            times[target].append(plan(costmap, (goal.x, goal.y), (home.x, home.y)).plan_ms)
        shortest[target] = shortest_grid_path_length(grid, costmap.params.robot_radius, (home.x, home.y),
                                                     (goal.x, goal.y))
    return times, shortest


def run(argv: list[str]) -> BenchResult:
    parser = argparse.ArgumentParser(prog='l2b2-bench nav', description='Escort benchmark on the simulator.')
    parser.add_argument('--targets', default='', help='comma-separated target ids (default: all)')
    # 3x real time, as the escort tests: the stack is not in lockstep with the simulator, so as fast as possible
    # (0; about 10x here) turns each message's wall-clock delay into tenths of simulated seconds of lag in the
    # navigator's control loop, and the paths measure that lag rather than the escort.
    parser.add_argument('--rtf', type=float, default=3.0,
                        help='simulator real-time factor (default 3); 0 = as fast as possible')
    parser.add_argument('--plan-repeats', type=int, default=10, help='planner runs per target for p50/p99')
    parser.add_argument('--no-return', action='store_true', help='do not wait for the robot to return home')
    args = parser.parse_args(argv)
    catalog = load_catalog()
    targets = [t for t in args.targets.split(',') if t] or catalog.ids()
    unknown = [t for t in targets if t not in catalog]
    if unknown:
        raise SystemExit(f'unknown targets: {", ".join(unknown)}')

    plan_ms, shortest = planning_times(targets, args.plan_repeats)
    from l2b2_common.ros_harness import RosHarness
    harness = RosHarness()
    rows = []
    try:
        stack = SimStack(harness.add, harness.context, real_time_factor=args.rtf)
        stack.wait_ready(harness.wait_for)
        sc = Scenario(stack, harness.wait_for, harness.wait_future)
        scoring = threading.Event()

        def score_loop():
            while not scoring.wait(0.2):
                _score_pending(stack)
        scorer = threading.Thread(target=score_loop, daemon=True)
        scorer.start()
        clock = stack.probe.get_clock()
        wall0, sim0 = time.monotonic(), clock.now().nanoseconds * 1e-9
        for target in targets:
            sc.reset()
            vid = sc.spawn_behind(1.0, 'follow', 1.0, towards=sc.first_heading_point(target))
            t_wall, t_sim = time.monotonic(), clock.now().nanoseconds * 1e-9
            res = sc.result(sc.send(target))
            ok = res.result.outcome == 0
            row = {'target': target, 'success': ok, 'outcome': res.result.outcome,
                   'time_s': round(float(res.result.elapsed_s), 1),
                   'path_m': round(float(res.result.path_length_m), 2),
                   'shortest_m': round(shortest[target], 2),
                   'path_ratio': round(float(res.result.path_length_m) / shortest[target], 3)
                   if ok and shortest[target] > 0 else math.nan,
                   'plan_p50_ms': round(percentile(plan_ms[target], 50), 2),
                   'plan_p99_ms': round(percentile(plan_ms[target], 99), 2)}
            if ok and not args.no_return:
                sc.set_visitor(vid, 'remove')
                t_home = time.monotonic()
                try:
                    sc.wait_home(timeout=300.0)
                    row['home_ok'] = True
                except TimeoutError:
                    row['home_ok'] = False
                row['home_wall_s'] = round(time.monotonic() - t_home, 1)
            row['wall_s'] = round(time.monotonic() - t_wall, 1)
            row['sim_speed'] = round((clock.now().nanoseconds * 1e-9 - t_sim) / max(row['wall_s'], 1e-3), 2)
            rows.append(row)
            print(f'  {target}: {row}', flush=True)
        sim_s = clock.now().nanoseconds * 1e-9 - sim0
        wall_s = time.monotonic() - wall0
        scoring.set()
        scorer.join(timeout=2.0)
        _score_pending(stack)
    finally:
        harness.close()

    score = stack.score
    all_plan_ms = [t for times in plan_ms.values() for t in times]
    ratios = [r['path_ratio'] for r in rows if isinstance(r['path_ratio'], float) and math.isfinite(r['path_ratio'])]
    figures = {
        'targets': len(rows),
        'success_rate': sum(r['success'] for r in rows) / len(rows) if rows else math.nan,
        'return_home_rate': (sum(r.get('home_ok', False) for r in rows) / len(rows)) if rows and not args.no_return
        else math.nan,
        'path_ratio_max': max(ratios) if ratios else math.nan,
        'path_ratio_mean': sum(ratios) / len(ratios) if ratios else math.nan,
        'plan_p50_ms': percentile(all_plan_ms, 50),
        'plan_p99_ms': percentile(all_plan_ms, 99),
        'sim_speed': sim_s / wall_s if wall_s > 0 else math.nan,
        'sim_s': round(sim_s, 1),
        'wall_s': round(wall_s, 1),
        'tracker_precision': score.precision,
        'tracker_recall': score.recall,
        'tracker_error_mean_m': float(np.mean(score.errors)) if score.errors else math.nan,
        'tracker_error_p95_m': percentile(score.errors, 95),
        'tracker_samples': score.true_positives + score.false_negatives,
    }
    notes = ['path_ratio: driven path / shortest 8-connected grid path for the robot radius (no inflation);',
             'planning: wall time of the sim navigator planner home <-> target on this machine;',
             'tracker: /people/tracked vs /sim/visitors of the same scan, matched within 0.5 m, people within range.']
    return BenchResult('l2b2 nav: escort over the simulated Bürgerbüro', figures, rows, notes)

"""``l2b2-escort``: the Escort action server. Drives with Nav2's ``NavigateToPose`` and watches the visitor.

The decisions live in :class:`~l2b2_navigation.escort.EscortPolicy`; this node feeds it (pose from
/tf, people from /people/tracked, goal results, /safety/state) and carries out its commands. The
exact Nav2 action is used, so the same node drives Nav2 on the robot and the sim navigator here.

Outcomes are always delivered as a result: ARRIVED succeeds the action goal, CANCELED cancels it,
everything else (UNKNOWN_TARGET, BUSY, ESTOPPED, VISITOR_LOST, NAVIGATION_FAILED) aborts it — the
``outcome`` field and ``message`` say why. Unknown targets are accepted and aborted at once rather
than rejected, so that callers (dialogue, panel) get a readable outcome instead of a bare refusal.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
import math
from threading import Event, RLock

from action_msgs.msg import GoalStatus
from geometry_msgs.msg import PoseStamped
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth, RobotStatus, SafetyState, SayRequest, TrackedPeople
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from std_srvs.srv import SetBool
from tf2_msgs.msg import TFMessage

from l2b2_common.catalog import load_catalog
from l2b2_common.codes import EscortOutcome
from l2b2_common.config import Section, config_path, load_yaml
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.node_main import run_node
from l2b2_common.params import Param, declare_params
from l2b2_common.qos import LATCHED, RELIABLE, SENSOR
from l2b2_navigation.escort import (
    CancelGoal,
    Command,
    EscortConfig,
    EscortPolicy,
    Finish,
    Person,
    Phase,
    Say,
    SendGoal,
    TellStaff,
)
from l2b2_navigation.person_tracker import FrameTree, Pose2D, yaw_from_quaternion
from l2b2_navigation.waypoints import load_waypoints, require_waypoints

PARAMS = [
    Param('waypoints_file', 'maps/buergerbuero_waypoints.yaml', 'Waypoint file (relative to the share dir).'),
    Param('texts_file', 'escort_texts.yaml', 'What the escort says, per language (under config/).'),
    Param('catalog_file', '', 'Department catalog; empty: config/departments.yaml.'),
    Param('global_frame', 'map', 'Frame of waypoints, goals and the reported pose.'),
    Param('base_frame', 'base_link', 'The robot body frame.'),
    Param('follow_distance', 3.0, 'The visitor counts as following within this distance (m).', min=0.5, max=10.0),
    Param('resume_distance', 2.0, 'After a pause, walk on once the visitor is this close (m).', min=0.3, max=10.0),
    Param('pause_after_s', 1.5, 'Falling behind or out of sight this long (s) pauses the walk.', min=0.0, max=30.0),
    Param('prompt_interval_s', 8.0, 'Repeat the request to follow this often while waiting (s).', min=0.1,
          max=120.0),
    Param('give_up_s', 30.0, 'Waiting this long (s) for the visitor ends with VISITOR_LOST.', min=1.0, max=600.0),
    Param('pick_radius', 3.0, 'With visitor_track_id 0, the nearest person within this (m) is the visitor.',
          min=0.5, max=10.0),
    Param('reacquire_radius', 1.0, 'A new track this close (m) to where the visitor vanished continues them.',
          min=0.1, max=5.0),
    Param('max_retries', 2, 'Failed NavigateToPose goals retried before NAVIGATION_FAILED.', min=0, max=10),
    Param('retry_delay_s', 2.0, 'Pause before retrying a failed goal (s).', min=0.0, max=60.0),
    Param('stall_timeout_s', 90.0, 'A goal under which the robot has not moved for this long (s) is retried.',
          min=5.0, max=3600.0),
    Param('return_home', True, 'Go back to the home waypoint by itself after arrival.'),
    Param('dwell_s', 10.0, 'Time at the counter for the hand-over before returning home (s).', min=0.0, max=600.0),
    Param('nav_server_wait_s', 5.0, 'Wait this long (s) for /navigate_to_pose before a goal counts as failed.',
          min=0.1, max=120.0),
    Param('status_rate_hz', 2.0, 'Rate of /robot/status.', min=0.1, max=50.0),
]
TEXT_KEYS = ('follow_me', 'arrived', 'visitor_lost')


def load_texts(path) -> dict[str, dict[str, str]]:
    """The escort's sentences per key and language; German and Turkish are required for every key."""
    root = Section(path, '', load_yaml(path))
    root.unknown_keys(set(TEXT_KEYS))
    out = {}
    for key in TEXT_KEYS:
        texts = root.section(key)
        out[key] = {str(lang): texts.str(str(lang)) for lang in texts.data}
        for lang in ('de', 'tr'):
            texts.str(lang)
    return out


@dataclass
class Session:
    """One escort (``goal_handle`` set) or a trip home by itself (``goal_handle`` None)."""

    policy: EscortPolicy
    language: str
    mode: str
    goal_handle: object | None = None
    started: float = 0.0
    nav_handles: dict[int, object] = field(default_factory=dict)
    cancel_wanted: set[int] = field(default_factory=set)
    #: seq -> (goal pose, node-clock deadline) for goals waiting on the navigation server.
    pending: dict[int, tuple[Pose2D, float]] = field(default_factory=dict)
    done: bool = False
    #: Set when the session finishes; the action's execute thread waits on it.
    ended: Event = field(default_factory=Event)


class EscortNode(Node):
    def __init__(self, **kwargs):
        super().__init__('escort', **kwargs)
        self.p = declare_params(self, PARAMS)
        p = self.p
        self.config = EscortConfig(
            follow_distance=p.follow_distance, resume_distance=min(p.resume_distance, p.follow_distance),
            pause_after_s=p.pause_after_s, prompt_interval_s=p.prompt_interval_s, give_up_s=p.give_up_s,
            pick_radius=p.pick_radius, reacquire_radius=p.reacquire_radius, max_retries=p.max_retries,
            retry_delay_s=p.retry_delay_s, stall_timeout_s=p.stall_timeout_s)
        self.catalog = load_catalog(p.catalog_file or None)
        self.waypoints = load_waypoints(p.waypoints_file)
        self.home = self.catalog.home_waypoint
        require_waypoints(self.waypoints, [self.home] + [t.waypoint for t in self.catalog.targets.values()],
                          p.waypoints_file)
        self.texts = load_texts(config_path(p.texts_file))
        self.frames = FrameTree()
        self.session: Session | None = None
        self.return_at: float | None = None
        #: Staff paused the hand-over dwell: the robot stays at the counter until they continue.
        self.home_held = False
        self.handover_target = ''
        self.safety = SafetyState()
        self.battery_percent = math.nan
        self.last_pose: Pose2D | None = None
        self._say_count = 0
        self._group = ReentrantCallbackGroup()
        self._lock = RLock()

        self.health = HealthReporter(self, 'escort')
        self.pub_status = self.create_publisher(RobotStatus, '/robot/status', RELIABLE)
        self.pub_say = self.create_publisher(SayRequest, '/speech/say', RELIABLE)
        g = self._group
        self.create_subscription(TrackedPeople, '/people/tracked', self._on_people, RELIABLE, callback_group=g)
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED, callback_group=g)
        self.create_subscription(TFMessage, '/tf', self._on_tf, RELIABLE, callback_group=g)
        self.create_subscription(TFMessage, '/tf_static', self._on_tf, LATCHED, callback_group=g)
        self.create_subscription(BatteryState, '/battery', self._on_battery, SENSOR, callback_group=g)
        self.nav = ActionClient(self, NavigateToPose, '/navigate_to_pose', callback_group=g)
        self.server = ActionServer(self, Escort, '/escort', execute_callback=self._execute,
                                   goal_callback=lambda _goal: GoalResponse.ACCEPT,
                                   cancel_callback=lambda _handle: CancelResponse.ACCEPT, callback_group=g)
        self.create_service(SetBool, '/escort/pause', self._on_pause, callback_group=g)
        # Steady timers: cancel requests and estop are handled even while simulated time stands still;
        # the policy itself always reads the node clock (use_sim_time works).
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.create_timer(0.1, self._tick, callback_group=g, clock=steady)
        self.create_timer(1.0 / p.status_rate_hz, self._publish_status, callback_group=g, clock=steady)
        self.health.set(OK, 'ready', targets=len(self.catalog.targets))

    # ------------------------------------------------------------------------------------ helpers
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _robot_pose(self) -> Pose2D | None:
        pose = self.frames.lookup(self.p.global_frame, self.p.base_frame)
        return pose if pose is not None else self.last_pose

    # ------------------------------------------------------------------------------------ inputs
    def _on_tf(self, msg: TFMessage) -> None:
        with self._lock:
            for t in msg.transforms:
                r, tr = t.transform.rotation, t.transform.translation
                self.frames.set(t.header.frame_id, t.child_frame_id,
                                Pose2D(tr.x, tr.y, yaw_from_quaternion(r.x, r.y, r.z, r.w)))

    def _on_people(self, msg: TrackedPeople) -> None:
        people = [Person(int(p.id), float(p.position.x), float(p.position.y)) for p in msg.people]
        with self._lock:
            if self.session is not None:
                self.session.policy.on_people(people)

    def _on_battery(self, msg: BatteryState) -> None:
        if math.isfinite(msg.percentage):
            self.battery_percent = float(msg.percentage) * 100.0

    def _on_safety(self, msg: SafetyState) -> None:
        with self._lock:
            self.safety = msg
            if msg.estop_active:
                self.return_at, self.home_held = None, False
                if self.session is not None:
                    self._apply(self.session, self.session.policy.on_estop())
        self._publish_status()

    def _on_pause(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        """Staff pause (``data`` true) or continue the escort, the trip home or the wait before it."""
        with self._lock:
            session, now = self.session, self._now()
            if request.data:
                if session is not None and not session.policy.paused:
                    self._apply(session, session.policy.on_pause(now))
                    response.success, response.message = True, f'paused on the way to {session.policy.target_id}'
                elif session is not None:
                    response.success, response.message = True, 'already paused'
                elif self.return_at is not None:
                    self.return_at, self.home_held = None, True
                    response.success, response.message = True, f'staying at {self.handover_target}'
                else:
                    response.success, response.message = False, 'no escort under way'
            elif session is not None and session.policy.paused:
                self._apply(session, session.policy.on_resume(now))
                response.success, response.message = True, f'continuing to {session.policy.target_id}'
            elif self.home_held:
                self.home_held, self.return_at = False, now
                response.success, response.message = True, 'returning home'
            else:
                response.success, response.message = False, 'nothing is paused'
            if response.success:
                self.get_logger().info(f'staff: {response.message}')
        self._publish_status()
        return response

    # ------------------------------------------------------------------------------------ action
    def _execute(self, goal_handle):
        """Runs the escort on its own executor thread, blocked until the session ends.

        Deliberately not a coroutine: rclpy re-polls a pending coroutine on every executor wake-up, so
        an awaiting escort kept a core busy for its whole length.
        """
        req = goal_handle.request
        result = Escort.Result()
        with self._lock:
            refusal = self._refusal(req.target_id)
            if refusal is not None:
                result.outcome, result.message = refusal
                self.get_logger().info(f'escort to "{req.target_id}" refused: {result.message}')
                goal_handle.abort()
                return result
            if self.session is not None:  # going home, or an older escort: the new visitor comes first
                self._apply(self.session, self.session.policy.on_cancel())
            self.return_at, self.home_held = None, False
            waypoint = self._waypoint_for(req.target_id)
            policy = EscortPolicy(self.config, req.target_id, Pose2D(waypoint.x, waypoint.y, waypoint.yaw),
                                  with_visitor=req.with_visitor, visitor_id=int(req.visitor_track_id))
            pose = self._robot_pose()
            if pose is not None:
                policy.on_pose(pose)
            session = Session(policy, req.language or 'de', 'escorting' if req.with_visitor else 'going_to',
                              goal_handle, started=self._now())
            self.session = session
            self.get_logger().info(f'escort to {req.target_id} (with_visitor={req.with_visitor})')
            self.health.set(OK, f'{"escorting" if req.with_visitor else "going"} to {req.target_id}')
            self._apply(session, policy.start(session.started))
        while not session.ended.wait(0.1):  # cancel requests show only on the handle: look 10 times a second
            if goal_handle.is_cancel_requested:
                with self._lock:
                    self._apply(session, policy.on_cancel())
        result.outcome, result.message = int(policy.outcome), policy.message
        result.elapsed_s = float(max(0.0, self._now() - session.started))
        result.path_length_m = float(policy.path_length)
        if policy.outcome is EscortOutcome.ARRIVED:
            goal_handle.succeed()
        elif policy.outcome is EscortOutcome.CANCELED and goal_handle.is_cancel_requested:
            goal_handle.canceled()
        else:
            if policy.outcome is EscortOutcome.CANCELED:
                result.message = 'superseded by a newer escort goal'
            goal_handle.abort()
        self.get_logger().info(f'escort to {req.target_id}: {policy.outcome.name} ({result.message})')
        return result

    def _refusal(self, target_id: str) -> tuple[int, str] | None:
        if target_id != self.home and target_id not in self.catalog:
            return EscortOutcome.UNKNOWN_TARGET, f'unknown target "{target_id}" (known: home, {", ".join(self.catalog.ids())})'
        if self.safety.estop_active:
            return EscortOutcome.ESTOPPED, 'emergency stop is active'
        if self.session is not None and self.session.goal_handle is not None:
            return EscortOutcome.BUSY, f'already escorting to {self.session.policy.target_id}'
        return None

    def _waypoint_for(self, target_id: str):
        name = self.home if target_id == self.home else self.catalog[target_id].waypoint
        return self.waypoints[name]

    # ------------------------------------------------------------------------------------ periodic
    def _tick(self) -> None:
        with self._lock:
            now = self._now()
            session = self.session
            if session is None:
                if self.return_at is not None and now >= self.return_at:
                    self._go_home()
                return
            pose = self._robot_pose()
            if pose is not None:
                session.policy.on_pose(pose)
            for seq, (goal, deadline) in list(session.pending.items()):
                if self.nav.server_is_ready():
                    del session.pending[seq]
                    self._send_nav(session, SendGoal(seq, goal))
                elif now >= deadline:
                    del session.pending[seq]
                    self._apply(session, session.policy.on_nav_result(now, seq, False,
                                                                      'navigation server not available'))
            self._apply(session, session.policy.tick(now))
            if session.goal_handle is not None and not session.done:
                session.goal_handle.publish_feedback(self._feedback(session, pose))

    def _feedback(self, session: Session, pose: Pose2D | None) -> Escort.Feedback:
        policy = session.policy
        fb = Escort.Feedback()
        fb.phase = str(policy.phase.value if policy.phase is not Phase.FINISHED else Phase.ARRIVED.value)
        fb.distance_remaining = float(policy.distance_remaining) if math.isfinite(policy.distance_remaining) else -1.0
        fb.visitor_status = int(policy.visitor_status)
        fb.visitor_distance = float(policy.visitor_distance) if math.isfinite(policy.visitor_distance) else -1.0
        fb.current_pose = self._pose_msg(pose)
        return fb

    def _pose_msg(self, pose: Pose2D | None) -> PoseStamped:
        msg = PoseStamped()
        msg.header.frame_id = self.p.global_frame
        msg.header.stamp = self.get_clock().now().to_msg()
        if pose is not None:
            msg.pose.position.x, msg.pose.position.y = pose.x, pose.y
            msg.pose.orientation.z, msg.pose.orientation.w = math.sin(pose.yaw / 2), math.cos(pose.yaw / 2)
        return msg

    def _publish_status(self) -> None:
        with self._lock:
            status = RobotStatus()
            status.header.stamp = self.get_clock().now().to_msg()
            status.header.frame_id = self.p.global_frame
            status.pose = self._pose_msg(self._robot_pose())
            status.estop_active = bool(self.safety.estop_active)
            session = self.session
            if self.safety.estop_active:
                status.mode = 'estop'
            elif self.safety.teleop_active:
                status.mode = 'teleop'
            elif session is not None:
                status.mode = 'paused' if session.policy.paused else session.mode
                status.escort_target_id = session.policy.target_id
            elif self.home_held:
                status.mode, status.escort_target_id = 'paused', self.handover_target
            elif self.return_at is not None:  # hand-over at the counter before going home
                status.mode, status.escort_target_id = 'escorting', self.handover_target
            else:
                status.mode = 'idle'
            status.battery_percent = self.battery_percent
            health = ComponentHealth(component='escort', level=self.health.level)
            health.header.stamp = status.header.stamp
            status.components = [health]
        self.pub_status.publish(status)

    # ------------------------------------------------------------------------------------ commands
    def _apply(self, session: Session, commands: list[Command]) -> None:
        for cmd in commands:
            if isinstance(cmd, SendGoal):
                self._send_nav(session, cmd)
            elif isinstance(cmd, CancelGoal):
                self._cancel_nav(session, cmd.seq)
            elif isinstance(cmd, Say):
                self._say(session, cmd.key)
            elif isinstance(cmd, TellStaff):
                # Staff see this on the panel (health + robot status); no visitor data in it.
                self.get_logger().warning(f'staff attention: {cmd.message}')
                self.health.set(DEGRADED, cmd.message)
            elif isinstance(cmd, Finish):
                self._finished(session, cmd)

    def _send_nav(self, session: Session, cmd: SendGoal) -> None:
        if not self.nav.server_is_ready():
            session.pending.setdefault(cmd.seq, (cmd.pose, self._now() + self.p.nav_server_wait_s))
            return
        goal = NavigateToPose.Goal()
        goal.pose = self._pose_msg(cmd.pose)
        future = self.nav.send_goal_async(goal, feedback_callback=partial(self._on_nav_feedback, session, cmd.seq))
        future.add_done_callback(partial(self._on_nav_accepted, session, cmd.seq))

    def _cancel_nav(self, session: Session, seq: int) -> None:
        session.pending.pop(seq, None)
        handle = session.nav_handles.get(seq)
        if handle is not None:
            handle.cancel_goal_async()
        else:
            session.cancel_wanted.add(seq)

    def _on_nav_accepted(self, session: Session, seq: int, future) -> None:
        with self._lock:
            handle = future.result()
            if handle is None or not handle.accepted:
                self._apply(session, session.policy.on_nav_result(self._now(), seq, False, 'goal rejected'))
                return
            session.nav_handles[seq] = handle
            if seq in session.cancel_wanted or session.done or seq != session.policy.goal_seq:
                handle.cancel_goal_async()
            handle.get_result_async().add_done_callback(partial(self._on_nav_result, session, seq))

    def _on_nav_feedback(self, session: Session, seq: int, msg) -> None:
        fb = msg.feedback
        with self._lock:
            if seq == session.policy.goal_seq:
                session.policy.on_nav_distance(float(fb.distance_remaining))
                p, q = fb.current_pose.pose.position, fb.current_pose.pose.orientation
                if fb.current_pose.header.frame_id in ('', self.p.global_frame):
                    self.last_pose = Pose2D(p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))

    def _on_nav_result(self, session: Session, seq: int, future) -> None:
        response = future.result()
        with self._lock:
            session.nav_handles.pop(seq, None)
            ok = response.status == GoalStatus.STATUS_SUCCEEDED
            reason = '' if ok else (response.result.error_msg or _STATUS.get(response.status, 'failed'))
            if not ok and response.result.error_code:
                reason += f' (error {response.result.error_code})'
            pose = self._robot_pose()
            if pose is not None:
                session.policy.on_pose(pose)  # count the last stretch into the path length
            self._apply(session, session.policy.on_nav_result(self._now(), seq, ok, reason))

    def _say(self, session: Session, key: str) -> None:
        texts = self.texts[key]
        lang = session.language if session.language in texts else 'de'
        target = session.policy.target_id
        if target == self.home and key == 'arrived':
            return  # coming home is nothing to announce
        name, hint = target, ''
        if target in self.catalog:
            name = self.catalog[target].display_name(lang)
            hint = self.catalog[target].location_hint.get(lang, '')
        self._say_count += 1
        msg = SayRequest(utterance_id=f'escort-{self._say_count}', language=lang,
                         text=texts[lang].format(target=name, hint=hint).strip(),
                         priority=SayRequest.PRIORITY_NORMAL, interruptible=False)
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub_say.publish(msg)

    def _finished(self, session: Session, cmd: Finish) -> None:
        session.done = True
        session.ended.set()
        if self.session is session:
            self.session = None
        going_home = session.goal_handle is None
        if going_home:
            if cmd.outcome is not EscortOutcome.ARRIVED and cmd.outcome is not EscortOutcome.CANCELED:
                self.health.set(DEGRADED, f'could not return home: {cmd.message}')
            elif cmd.outcome is EscortOutcome.ARRIVED:
                self.health.set(OK, 'at home')
            return
        if cmd.outcome is EscortOutcome.ARRIVED:
            self.health.set(OK, f'arrived at {session.policy.target_id}')
        if not self.p.return_home or session.policy.target_id == self.home:
            return
        if cmd.outcome is EscortOutcome.ARRIVED:
            self.return_at = self._now() + self.p.dwell_s  # hand-over at the counter, then home
            self.handover_target = session.policy.target_id
        elif cmd.outcome is EscortOutcome.VISITOR_LOST:
            self._say(session, 'visitor_lost')
            self.return_at, self.handover_target = self._now(), session.policy.target_id

    def _go_home(self) -> None:
        self.return_at = None
        if self.safety.estop_active:
            return
        home = self.waypoints[self.home]
        policy = EscortPolicy(self.config, self.home, Pose2D(home.x, home.y, home.yaw), with_visitor=False)
        pose = self._robot_pose()
        if pose is not None:
            policy.on_pose(pose)
        self.session = Session(policy, 'de', 'returning', None, started=self._now())
        self.get_logger().info('returning home')
        if self.health.level == OK:  # a warning for staff (visitor lost) stays until they see it
            self.health.set(OK, 'returning home')
        self._apply(self.session, policy.start(self.session.started))

    def close(self) -> None:
        """Ends a running escort so that its execute thread returns and the process can exit.

        Runs after the executor stopped, often with the ROS context already shut down (Ctrl-C):
        telling the navigator and the panel may fail then, ending the session must not.
        """
        with self._lock:
            session = self.session
            if session is None:
                return
            try:
                self._apply(session, session.policy.on_shutdown())
            except Exception as exc:  # noqa: BLE001 - shutting down: nobody is left to tell
                self.get_logger().debug(f'close: {exc}')
            session.ended.set()


_STATUS = {GoalStatus.STATUS_ABORTED: 'aborted', GoalStatus.STATUS_CANCELED: 'canceled by the navigator'}


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: EscortNode(), args, threads=4)


if __name__ == '__main__':
    raise SystemExit(main())

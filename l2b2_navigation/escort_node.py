"""``l2b2-escort``: the Escort action server. Drives with Nav2's ``NavigateToPose`` and watches the visitor.

The decisions live in :class:`~l2b2_navigation.escort.EscortPolicy` (one escort) and
:class:`~l2b2_navigation.escort_trips.Trips` (hand-over, going home, staff pause); this node feeds
them (pose from /tf, people from /people/tracked, goal results, /safety/state) and carries out their
orders; :mod:`~l2b2_navigation.escort_msgs` builds its messages. The exact Nav2 action is used, so the
same node drives Nav2 on the robot and the sim navigator here; every goal goes through
:class:`~l2b2_common.calls.BoundedCaller`, so a missing or silent navigator ends the goal as failed
instead of hanging the escort.

Outcomes are always delivered as a result: ARRIVED succeeds the action goal, CANCELED cancels it,
everything else (UNKNOWN_TARGET, BUSY, ESTOPPED, NOT_ACCEPTING, VISITOR_LOST, NAVIGATION_FAILED) aborts
it — the ``outcome`` field and ``message`` say why. Refused goals (unknown target, estop, busy, not
accepting) are accepted and aborted at once rather than rejected, so that callers (dialogue, panel) get a
readable outcome instead of a bare refusal.

The office day: while the office node's latched /office/status says ``accepting_escorts: false`` (low
battery, closing, staff dock-now, ...), a new goal *with a visitor* ends at once with NOT_ACCEPTING and the
office's ``reason`` in the message; goals without a visitor (the panel's staff "send to", ``home``) are
deliberate staff acts and still run, and an escort already under way is finished. Without any
/office/status (no office node) every goal is taken as before.

Idle (no trip, no return due) the node runs no periodic timer but the status heartbeat and reads neither
/tf nor /people/tracked (both are subscribed for a trip and dropped after it): /robot/status
goes out when something in it changes and every ``status_heartbeat_s``; during a trip the policy ticks
at 10 Hz of the node clock and the status follows the pose at ``status_rate_hz``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
import math
from threading import Event, RLock

from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import OfficeStatus, RobotStatus, SafetyState, SayRequest, TrackedPeople
from nav2_msgs.action import NavigateToPose
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from sensor_msgs.msg import BatteryState
from std_srvs.srv import SetBool

from l2b2_common.calls import BoundedCaller, CallOutcome, PendingCall
from l2b2_common.catalog import load_catalog
from l2b2_common.codes import EscortOutcome, HealthLevel
from l2b2_common.config import config_path
from l2b2_common.geometry import Pose2D
from l2b2_common.health import HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.maps import load_waypoints, require_waypoints
from l2b2_common.node_main import run_node
from l2b2_common.qos import LATCHED, RELIABLE, SENSOR
from l2b2_common.tf_listener import TfListener
from l2b2_common.tunables import declare_tunables, tunable
from l2b2_navigation import escort_msgs as msgs
from l2b2_navigation.escort import (
    CancelGoal,
    Command,
    EscortConfig,
    Finish,
    Say,
    SendGoal,
    TellStaff,
    load_texts,
)
from l2b2_navigation.escort_trips import Note, Order, SetHealth, Trip, Trips

#: The policy's timers (visitor distance, retries, giving up) run this often during a trip (s).
TICK_S = 0.1


@dataclass(frozen=True)
class EscortNodeParams:
    """The node's own settings (files, frames, the navigator call, /robot/status); behaviour is EscortConfig."""

    waypoints_file: str = tunable('maps/buergerbuero_waypoints.yaml', 'Waypoint file (relative to the share dir).')
    texts_file: str = tunable('escort_texts.yaml', 'What the escort says, per language (under config/).')
    catalog_file: str = tunable('', 'Department catalog; empty: config/departments.yaml.')
    global_frame: str = tunable('map', 'Frame of waypoints, goals and the reported pose.')
    base_frame: str = tunable('base_link', 'The robot body frame.')
    nav_server_wait_s: float = tunable(5.0, 'Wait this long for /navigate_to_pose before a goal counts as failed; '
                                       'also how long the navigator may vanish under a running goal (s).',
                                       min=0.1, max=120.0)
    nav_answer_timeout_s: float = tunable(10.0, 'The navigator must accept or reject a goal within this (s).',
                                          min=0.1, max=120.0)
    status_rate_hz: float = tunable(2.0, 'While a trip is under way, /robot/status follows the pose this often.',
                                    min=0.1, max=50.0)
    status_heartbeat_s: float = tunable(2.0, '/robot/status is repeated this often when nothing changes (s).',
                                        min=0.1, max=60.0)


@dataclass(eq=False)
class Ride:
    """The ROS side of one trip: its action goal (None: going home by itself) and its navigator goals."""

    goal_handle: object | None = None
    nav_handles: dict[int, object] = field(default_factory=dict)
    calls: dict[int, PendingCall] = field(default_factory=dict)
    #: Set when the trip finishes; the action's execute thread waits on it.
    ended: Event = field(default_factory=Event)


class EscortNode(LeanNode):
    def __init__(self, **kwargs):
        super().__init__('escort', **kwargs)
        self.p = p = declare_tunables(self, EscortNodeParams)
        self.config = declare_tunables(self, EscortConfig)
        self.catalog = load_catalog(p.catalog_file or None)
        self.waypoints = load_waypoints(p.waypoints_file)
        self.home = self.catalog.home_waypoint
        require_waypoints(self.waypoints, [self.home] + [t.waypoint for t in self.catalog.targets.values()],
                          p.waypoints_file)
        self.texts = load_texts(config_path(p.texts_file))
        self.trips = Trips(self.config, self.home, self._waypoint_pose(self.home))
        self.rides: dict[Trip, Ride] = {}
        self.safety = SafetyState()
        self.battery_percent = math.nan
        self.office: OfficeStatus | None = None  # the last /office/status; None: no office node, escorts taken
        self.last_pose: Pose2D | None = None
        self._say_count = 0
        self._group = g = ReentrantCallbackGroup()
        self._lock = RLock()
        self._status_gate = msgs.StatusGate(p.status_heartbeat_s)
        self._ticks = 0

        self.health = HealthReporter(self, 'escort')
        self.pub_status = self.create_publisher(RobotStatus, '/robot/status', RELIABLE)
        self.pub_say = self.create_publisher(SayRequest, '/speech/say', RELIABLE)
        self.tf: TfListener | None = None  # /tf and /people/tracked are read only while a trip is under way
        self._people_sub = None
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED, callback_group=g)
        self.create_subscription(BatteryState, '/battery', self._on_battery, SENSOR, callback_group=g)
        self.create_subscription(OfficeStatus, '/office/status', self._on_office, LATCHED, callback_group=g)
        self.nav = ActionClient(self, NavigateToPose, '/navigate_to_pose', callback_group=g)
        self.caller = BoundedCaller(self, callback_group=g)
        self.server = ActionServer(self, Escort, '/escort', execute_callback=self._execute,
                                   goal_callback=lambda _goal: GoalResponse.ACCEPT,
                                   cancel_callback=lambda _handle: CancelResponse.ACCEPT, callback_group=g)
        self.create_service(SetBool, '/escort/pause', self._on_pause, callback_group=g)
        # The policy ticks on the node clock (simulated time with use_sim_time: a faster or slower
        # simulation sees the robot and visitor as often per simulated second as the robot does), and only
        # while a trip is under way. Cancel requests (the action's own loop) and estop (/safety/state) do
        # not wait for a tick; the heartbeat is on the steady clock, all an idle escort does.
        self._tick_timer = self.create_timer(TICK_S, self._tick, callback_group=g, autostart=False)
        self._steady = steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._status_every = max(1, round(1.0 / (p.status_rate_hz * TICK_S)))
        self.create_timer(p.status_heartbeat_s, self._publish_status, callback_group=g, clock=steady)
        self._wake = self.create_guard_condition(self._on_wake, callback_group=g)
        self.health.set(HealthLevel.OK, 'ready', targets=len(self.catalog.targets))

    # ------------------------------------------------------------------------------------ helpers
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _robot_pose(self) -> Pose2D | None:
        """The robot on the map now; when not listening to /tf, where it was last seen."""
        pose = self._live_pose()
        return pose if pose is not None else self.last_pose

    def _live_pose(self) -> Pose2D | None:
        if self.tf is None:
            return None
        try:
            pose = self.tf.tree.lookup(self.p.global_frame, self.p.base_frame)
        except (IndexError, RuntimeError):  # /tf being written on another thread this very moment
            return None
        if pose is not None:
            self.last_pose = pose
        return pose

    def _waypoint_pose(self, name: str) -> Pose2D:
        w = self.waypoints[name]
        return Pose2D(w.x, w.y, w.yaw)

    def _schedule(self) -> None:
        """Tick and read /tf while a trip or a return home is under way; sleep otherwise: an idle escort
        at home has nothing to watch (its status keeps the last pose)."""
        if self.trips.under_way and self._tick_timer.is_canceled():
            self._listen(True)
            self._tick_timer.reset()
            self._wake.trigger()  # a timer reset from another thread must wake a sleeping executor
        elif not self.trips.under_way and not self._tick_timer.is_canceled():
            self._tick_timer.cancel()
            self._listen(False)

    def _listen(self, on: bool) -> None:
        if on and self.tf is None:
            self.last_pose = None  # from before the trip: a jump in the path length if the robot was moved
            self.tf = TfListener(self, callback_group=self._group)
            self._people_sub = self.create_subscription(TrackedPeople, '/people/tracked', self._on_people,
                                                        RELIABLE, callback_group=self._group)
        elif not on and self.tf is not None:
            self._live_pose()
            self.tf.close()
            self.tf = None
            self.destroy_subscription(self._people_sub)
            self._people_sub = None

    def _on_wake(self) -> None:
        pass  # the wake-up itself makes the executor see the restarted tick timer

    # ------------------------------------------------------------------------------------ inputs
    def _on_people(self, msg: TrackedPeople) -> None:
        with self._lock:
            trip = self.trips.trip
            if trip is not None and trip.policy.with_visitor:
                trip.policy.on_people(msgs.persons(msg))

    def _on_battery(self, msg: BatteryState) -> None:
        if math.isfinite(msg.percentage):
            self.battery_percent = float(msg.percentage) * 100.0
            self._publish_status(changed_only=True)

    def _on_office(self, msg: OfficeStatus) -> None:
        with self._lock:
            before = self.office
            self.office = msg
        if before is None or before.accepting_escorts != msg.accepting_escorts or before.reason != msg.reason:
            self.get_logger().info('office: taking new escorts' if msg.accepting_escorts else
                                   f'office: no new visitor escorts ({msg.reason or "no reason given"})')

    def _on_safety(self, msg: SafetyState) -> None:
        with self._lock:
            self.safety = msg
            self._carry_out(self.trips.estop(bool(msg.estop_active), self._now()))
        self._publish_status(changed_only=True)

    def _on_pause(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        """Staff pause (``data`` true) or continue the escort, the trip home or the wait before it."""
        with self._lock:
            ok, message, orders = self.trips.pause(bool(request.data), self._now())
            self._carry_out(orders)
            response.success, response.message = ok, message
            if ok:
                self.get_logger().info(f'staff: {message}')
        self._publish_status(changed_only=True)
        return response

    # ------------------------------------------------------------------------------------ action
    def _execute(self, goal_handle):
        """Runs the escort on its own executor thread, blocked until the trip ends.

        Deliberately not a coroutine: rclpy re-polls a pending coroutine on every executor wake-up, so
        an awaiting escort kept a core busy for its whole length.
        """
        req = goal_handle.request
        with self._lock:
            refusal = self._refusal(req.target_id, bool(req.with_visitor))
            if refusal is not None:
                result = Escort.Result(outcome=int(refusal[0]), message=refusal[1])
                self.get_logger().info(f'escort to "{req.target_id}" refused: {result.message}')
                goal_handle.abort()
                return result
            trip, orders = self.trips.begin(req.target_id, self._waypoint_pose(self._waypoint_name(req.target_id)),
                                            self._now(), language=req.language or 'de',
                                            with_visitor=req.with_visitor, visitor_id=int(req.visitor_track_id),
                                            robot=self._live_pose())
            ride = self.rides[trip] = Ride(goal_handle)
            self._carry_out(orders)
        self._publish_status(changed_only=True)
        while not ride.ended.wait(TICK_S):  # cancel requests show only on the handle: look 10 times a second
            if goal_handle.is_cancel_requested:
                with self._lock:
                    self._carry_out(self.trips.cancel(trip, self._now()))
        policy = trip.policy
        result = msgs.result_msg(policy, self._now() - trip.started)
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

    def _refusal(self, target_id: str, with_visitor: bool) -> tuple[EscortOutcome, str] | None:
        if target_id != self.home and target_id not in self.catalog:
            return (EscortOutcome.UNKNOWN_TARGET,
                    f'unknown target "{target_id}" (known: home, {", ".join(self.catalog.ids())})')
        refusal = self.trips.refusal()
        if refusal is None and with_visitor and self.office is not None and not self.office.accepting_escorts:
            refusal = (EscortOutcome.NOT_ACCEPTING,
                       f'not accepting new escorts: {self.office.reason or "office status says so"}')
        return refusal

    def _waypoint_name(self, target_id: str) -> str:
        return self.home if target_id == self.home else self.catalog[target_id].waypoint

    # ------------------------------------------------------------------------------------ periodic
    def _tick(self) -> None:
        with self._lock:
            pose = self._robot_pose()
            self._carry_out(self.trips.tick(self._now(), pose))
            trip = self.trips.trip
            ride = self.rides.get(trip) if trip is not None else None
            if ride is not None and ride.goal_handle is not None and not trip.done:
                ride.goal_handle.publish_feedback(msgs.feedback_msg(trip.policy, self._pose_msg(pose)))
        self._ticks += 1
        if self._ticks % self._status_every == 0:
            self._publish_status(changed_only=True)

    def _pose_msg(self, pose: Pose2D | None):
        return msgs.pose_msg(pose, self.p.global_frame, self.get_clock().now().to_msg())

    def _publish_status(self, changed_only: bool = False) -> None:
        """/robot/status when something in it changed (the pose by more than 5 cm or 3°), else as heartbeat."""
        with self._lock:
            pose = self._robot_pose()
            mode, target = self.trips.status(bool(self.safety.estop_active), bool(self.safety.teleop_active))
            battery = self.battery_percent
            key = msgs.status_key(mode, target, bool(self.safety.estop_active), self.health.level, battery, pose)
            if not self._status_gate.due(key, self._steady.now().nanoseconds * 1e-9, changed_only):
                return
            status = msgs.robot_status_msg(self.get_clock().now().to_msg(), self.p.global_frame, self._pose_msg(pose),
                                           bool(self.safety.estop_active), mode, target, battery, self.health.level)
        self.pub_status.publish(status)

    # ------------------------------------------------------------------------------------ orders
    def _carry_out(self, orders: list[Order]) -> None:
        for trip, order in orders:
            if isinstance(order, SetHealth):
                if not order.unless_warning or self.health.level == HealthLevel.OK:
                    self.health.set(order.level, order.message)
            elif isinstance(order, Note):
                self.get_logger().info(order.message)
            else:
                self._apply(trip, order)
        self._schedule()

    def _apply(self, trip: Trip, cmd: Command) -> None:
        ride = self.rides.setdefault(trip, Ride())
        if isinstance(cmd, SendGoal):
            self._send_nav(trip, ride, cmd)
        elif isinstance(cmd, CancelGoal):
            self._cancel_nav(ride, cmd.seq)
        elif isinstance(cmd, Say):
            self._say(trip, cmd.key)
        elif isinstance(cmd, TellStaff):
            # Staff see this on the panel (health + robot status); no visitor data in it.
            self.get_logger().warning(f'staff attention: {cmd.message}')
            self.health.set(HealthLevel.DEGRADED, cmd.message)
        elif isinstance(cmd, Finish):
            ride.ended.set()
            self.rides.pop(trip, None)

    def _send_nav(self, trip: Trip, ride: Ride, cmd: SendGoal) -> None:
        goal = NavigateToPose.Goal()
        goal.pose = self._pose_msg(cmd.pose)
        ride.calls[cmd.seq] = self.caller.call(
            self.nav, goal, partial(self._on_nav_accepted, trip, ride, cmd.seq),
            server_wait_s=self.p.nav_server_wait_s, answer_timeout_s=self.p.nav_answer_timeout_s,
            feedback_callback=partial(self._on_nav_feedback, trip, cmd.seq))

    def _cancel_nav(self, ride: Ride, seq: int) -> None:
        handle = ride.nav_handles.get(seq)
        if handle is not None:
            handle.cancel_goal_async()
            return
        call = ride.calls.pop(seq, None)
        if call is not None:  # not accepted yet: the caller cancels the goal should it be accepted later
            call.cancel()

    def _on_nav_accepted(self, trip: Trip, ride: Ride, seq: int, outcome: CallOutcome) -> None:
        with self._lock:
            ride.calls.pop(seq, None)
            if not outcome.ok:
                self._carry_out(self.trips.nav_result(trip, self._now(), seq, False, msgs.nav_result(outcome)[1]))
                return
            handle = outcome.value
            if not handle.accepted:
                self._carry_out(self.trips.nav_result(trip, self._now(), seq, False, 'goal rejected'))
                return
            ride.nav_handles[seq] = handle
            if trip.done or seq != trip.policy.goal_seq:
                handle.cancel_goal_async()
            self.caller.watch_result(handle, partial(self._on_nav_result, trip, ride, seq),
                                     server_gone_s=self.p.nav_server_wait_s, client=self.nav)

    def _on_nav_feedback(self, trip: Trip, seq: int, msg) -> None:
        fb = msg.feedback
        with self._lock:
            if seq == trip.policy.goal_seq:
                trip.policy.on_nav_distance(float(fb.distance_remaining))
                pose = msgs.pose_from_msg(fb.current_pose, self.p.global_frame)
                if pose is not None:
                    self.last_pose = pose

    def _on_nav_result(self, trip: Trip, ride: Ride, seq: int, outcome: CallOutcome) -> None:
        with self._lock:
            ride.nav_handles.pop(seq, None)
            ok, reason = msgs.nav_result(outcome)
            pose = self._robot_pose()
            if pose is not None:
                trip.policy.on_pose(pose)  # count the last stretch into the path length
            self._carry_out(self.trips.nav_result(trip, self._now(), seq, ok, reason))
        self._publish_status(changed_only=True)

    def _say(self, trip: Trip, key: str) -> None:
        target = trip.policy.target_id
        if target == self.home and key == 'arrived':
            return  # coming home is nothing to announce
        self._say_count += 1
        msg = msgs.say_request(self.texts, self.catalog, key, trip.language, target, f'escort-{self._say_count}')
        msg.header.stamp = self.get_clock().now().to_msg()
        self.pub_say.publish(msg)

    def close(self) -> None:
        """Ends a running escort so that its execute thread returns and the process can exit.

        Runs after the executor stopped, often with the ROS context already shut down (Ctrl-C):
        telling the navigator and the panel may fail then, ending the trip must not.
        """
        with self._lock:
            trip = self.trips.trip
            if trip is None:
                return
            ride = self.rides.get(trip)
            try:
                self._carry_out(self.trips.shutdown(self._now()))
            except Exception as exc:  # noqa: BLE001 - shutting down: nobody is left to tell
                self.get_logger().debug(f'close: {exc}')
            if ride is not None:
                ride.ended.set()


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: EscortNode(), args, threads=4)


if __name__ == '__main__':
    raise SystemExit(main())

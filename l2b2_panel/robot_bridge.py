"""The panel's robot bridge: ROS topics into :class:`PanelState`, browser actions into ROS calls.

Everything the web server asks of the robot goes through the methods below (the web app's
``RobotBridge`` protocol); they are called from the web server's worker threads and block at most
``service_timeout_s``. Service and action calls go through one :class:`BoundedCaller`, so none can
hang. Subscriptions only change the state; the browsers are woken only when something they show
changed (an idle robot publishing /odom and /tf at 50 Hz costs no pushes).
"""
from __future__ import annotations

from collections.abc import Callable
import concurrent.futures
import math
import threading
from typing import Any

from action_msgs.msg import GoalStatus, GoalStatusArray
from action_msgs.srv import CancelGoal
from geometry_msgs.msg import Twist
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import (
    ComponentHealth,
    DialogueState,
    OfficeStatus,
    RecognizedSpeech,
    RobotStatus,
    SafetyState,
    SayRequest,
    SpeechStatus,
    StaffAlerts,
    TrackedPeople,
    VisitorInput,
)
from l2b2_interfaces.srv import AcknowledgeAlert, SetLanguage
from nav_msgs.msg import OccupancyGrid, Odometry
from nav_msgs.msg import Path as PathMsg
from rclpy.action import ActionClient
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from std_msgs.msg import Empty
from std_srvs.srv import SetBool, Trigger

from l2b2_common.calls import NO_ANSWER, NO_SERVER, BoundedCaller, CallOutcome
from l2b2_common.frames import FrameTree
from l2b2_common.geometry import Pose2D, yaw_from_msg
from l2b2_common.maps import OccupancyMap
from l2b2_common.qos import LATCHED, RELIABLE, SENSOR, STATUS
from l2b2_common.tf_listener import TfListener
from l2b2_panel.state import PanelState
from l2b2_panel.streams import StreamNode
from l2b2_panel.teleop import TeleopDeadman
from l2b2_panel.views import FloorMap

#: The alerts node's interface (l2b2_office.alerts_node; not imported: the panel runs without it).
ALERTS_TOPIC = '/office/alerts'
ALERT_ACK_SERVICE = '/office/acknowledge_alert'
#: The office node's interface (l2b2_office.office_node; not imported either): the day, the battery, overrides.
OFFICE_STATUS_TOPIC = '/office/status'
OFFICE_STAY_OUT_SERVICE = '/office/stay_out'
OFFICE_DOCK_NOW_SERVICE = '/office/dock_now'
OFFICE_CLEAR_FAULT_SERVICE = '/office/clear_fault'


class RosBridge:
    """Wires ``node`` to ``state``; ``notify`` wakes the browsers after a visible change."""

    def __init__(self, node: Node, state: PanelState, *, service_timeout_s: float, teleop: TeleopDeadman,
                 notify: Callable[[], None]):
        self.node, self.state, self.timeout_s, self.deadman = node, state, service_timeout_s, teleop
        self._notify_web = notify
        self._notified_seq = -1
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._lock = threading.Lock()
        self._say_count = 0
        self._battery_topic_seen = False
        cb = self._cb = ReentrantCallbackGroup()
        self._caller = BoundedCaller(node, callback_group=cb)

        pub = node.create_publisher
        self._pub_teleop = pub(Twist, '/cmd_vel_teleop', RELIABLE)
        self._pub_say = pub(SayRequest, '/speech/say', RELIABLE)
        self._pub_stop = pub(Empty, '/speech/stop', RELIABLE)
        self._pub_visitor = pub(VisitorInput, '/visitor/input', RELIABLE)
        self._pub_recognized = pub(RecognizedSpeech, '/speech/recognized', RELIABLE)
        cli = node.create_client
        self.cli_estop = cli(SetBool, '/safety/estop', callback_group=cb)
        self.cli_reset = cli(Trigger, '/dialogue/reset', callback_group=cb)
        self.cli_takeover = cli(SetBool, '/dialogue/takeover', callback_group=cb)
        self.cli_language = cli(SetLanguage, '/dialogue/set_language', callback_group=cb)
        self.cli_pause = cli(SetBool, '/escort/pause', callback_group=cb)
        self.cli_cancel_escort = cli(CancelGoal, '/escort/_action/cancel_goal', callback_group=cb)
        self.cli_cancel_nav = cli(CancelGoal, '/navigate_to_pose/_action/cancel_goal', callback_group=cb)
        self.cli_ack_alert = cli(AcknowledgeAlert, ALERT_ACK_SERVICE, callback_group=cb)
        self.cli_stay_out = cli(SetBool, OFFICE_STAY_OUT_SERVICE, callback_group=cb)
        self.cli_dock_now = cli(Trigger, OFFICE_DOCK_NOW_SERVICE, callback_group=cb)
        self.cli_clear_fault = cli(Trigger, OFFICE_CLEAR_FAULT_SERVICE, callback_group=cb)
        self.escort = ActionClient(node, Escort, '/escort', callback_group=cb)

        # The streams that never stop (/tf and /odom at 50 Hz, tracked people, every node's health and
        # the battery each second) go to a small node of their own on its own thread: each wake-up of an
        # rclpy executor walks every entity of its nodes (~70 here, with the clients and QoS event
        # handlers), and it was that walk, 100 times a second, that kept an idle panel busy.
        self.streams = StreamNode(node.context, use_sim_time=node.get_parameter('use_sim_time').value)
        self.frames = FrameTree(history=2)
        self._base_on_tf = False  # once /tf carries base_link, /odom is not needed
        self._odom_pose: Pose2D | None = None  # odom→base_link from /odom, kept apart from the /tf tree
        self._tf = TfListener(self.streams, self.frames, on_update=self._on_tf)
        fast = self.streams.create_subscription
        fast(ComponentHealth, '/l2b2/health', self._on_health, 50)
        fast(RobotStatus, '/robot/status', self._on_robot_status, RELIABLE)
        self._odom_sub = fast(Odometry, '/odom', self._on_odom, SENSOR)
        fast(TrackedPeople, '/people/tracked', self._on_people, SENSOR)
        fast(BatteryState, '/battery', self._on_battery, SENSOR)
        sub = node.create_subscription
        sub(DialogueState, '/dialogue/state', self._on_dialogue, LATCHED)
        sub(RecognizedSpeech, '/speech/recognized', self._on_recognized, RELIABLE)
        sub(SayRequest, '/speech/say', self._on_say, RELIABLE)
        sub(SpeechStatus, '/speech/status', self._on_speech_status, STATUS)
        sub(SafetyState, '/safety/state', self._on_safety, LATCHED)
        sub(PathMsg, '/plan', self._on_plan, RELIABLE)
        sub(OccupancyGrid, '/map', self._on_map, LATCHED)
        sub(Escort.Impl.FeedbackMessage, '/escort/_action/feedback', self._on_escort_feedback, RELIABLE)
        sub(GoalStatusArray, '/escort/_action/status', self._on_escort_status, LATCHED)
        sub(StaffAlerts, ALERTS_TOPIC, self._on_alerts, LATCHED)
        sub(OfficeStatus, OFFICE_STATUS_TOPIC, self._on_office, LATCHED)

        # The joystick ticks only while someone drives: an idle panel has no timer running. A timer
        # started from the web thread does not wake an executor that sleeps without timers, so the web
        # thread triggers this guard condition after a command (starts the ticks) or a call (the
        # caller's deadline timer then counts).
        self._teleop_timer = node.create_timer(1.0 / teleop.rate_hz, self._teleop_tick, clock=self._steady,
                                               autostart=False)
        self._wake = node.create_guard_condition(self._on_wake)

    def now(self) -> float:
        return self._steady.now().nanoseconds * 1e-9

    def close(self) -> None:
        self.streams.close()

    def notify(self) -> None:
        """Wake the browsers if the state changed since they were last woken."""
        seq = self.state.seq
        if seq != self._notified_seq:
            self._notified_seq = seq
            self._notify_web()

    # --- subscriptions ---------------------------------------------------------------------------
    def _on_dialogue(self, m: DialogueState) -> None:
        self.state.update_dialogue({
            'state': m.state, 'session_id': m.session_id, 'language': m.language, 'intent': m.intent, 'target_id': m.target_id,
            'confidence': round(float(m.confidence), 2), 'candidates': list(m.candidates),
            'last_user_text': m.last_user_text, 'last_robot_text': m.last_robot_text, 'choices': list(m.choices),
            'staff_takeover': m.staff_takeover, 'display_number': m.display_number,
            'estimated_wait_minutes': int(m.estimated_wait_minutes)}, self.now())
        self.notify()

    def _on_recognized(self, m: RecognizedSpeech) -> None:
        self.state.update_recognized(m.text, m.language, m.source, self.now())
        self.notify()

    def _on_say(self, m: SayRequest) -> None:
        self.state.update_said(m.text, m.language, self.now(), m.utterance_id)
        self.notify()

    def _on_speech_status(self, m: SpeechStatus) -> None:
        self.state.update_speech_status(m.state == SpeechStatus.SPEAKING, m.text, m.language, self.now(),
                                        m.utterance_id)
        self.notify()

    def _on_health(self, m: ComponentHealth) -> None:
        if m.component != 'panel':
            self.state.update_health(m.component, int(m.level), m.message, self.now())
            self.notify()

    def _on_safety(self, m: SafetyState) -> None:
        self.state.update_safety(m.estop_active, m.estop_source, m.teleop_active, self.now())
        self.notify()

    def _on_robot_status(self, m: RobotStatus) -> None:
        self.state.update_robot_status(m.mode, m.escort_target_id, self.now())
        if m.battery_percent > 0 and not self._battery_topic_seen:
            self.state.update_battery(float(m.battery_percent), False, self.now())
        self.notify()

    def _on_tf(self, m: Any) -> None:
        if not self._base_on_tf and any(t.child_frame_id.lstrip('/') == 'base_link' for t in m.transforms):
            self._base_on_tf = True
            # /tf carries the robot: stop taking /odom too (50 messages a second for nothing when idle).
            self.streams.destroy_subscription(self._odom_sub)
        self._frames_changed()

    def _on_odom(self, m: Odometry) -> None:
        """Odometry is the robot's pose only where /tf does not carry base_link (a bare base driver)."""
        if self._base_on_tf:
            return
        p = m.pose.pose.position
        self._odom_pose = Pose2D(p.x, p.y, yaw_from_msg(m.pose.pose.orientation))
        self._frames_changed()

    def robot_pose(self) -> Pose2D | None:
        """base_link on the map: map→odom→base_link or map→base_link from /tf, else /odom after /tf's
        map→odom (odometry alone counts as the map)."""
        pose = self.frames.lookup('map', 'base_link')
        if pose is None:
            pose = self.frames.lookup('odom', 'base_link')
        if pose is not None or self._odom_pose is None:
            return pose
        map_odom = self.frames.lookup('map', 'odom')
        return self._odom_pose if map_odom is None else map_odom.compose(self._odom_pose)

    def _frames_changed(self) -> None:
        pose = self.robot_pose()
        if pose is not None:
            self.state.set_robot_pose(pose, self.now())
            self.notify()

    def _on_plan(self, m: PathMsg) -> None:
        self.state.update_plan([(ps.pose.position.x, ps.pose.position.y) for ps in m.poses])
        self.notify()

    def _on_people(self, m: TrackedPeople) -> None:
        people = [(int(p.id), p.position.x, p.position.y) for p in m.people]
        if m.header.frame_id.lstrip('/') == 'base_link':
            robot = self.robot_pose()
            if robot is None:
                return
            people = [(i, *_xy(robot.compose(Pose2D(x, y, 0.0)))) for i, x, y in people]
        self.state.update_people(people, self.now())
        self.notify()

    def _on_battery(self, m: BatteryState) -> None:
        self._battery_topic_seen = True
        pct = m.percentage
        percent = None if pct != pct else float(pct) * 100.0 if pct <= 1.0 else float(pct)
        self.state.update_battery(percent, m.power_supply_status == BatteryState.POWER_SUPPLY_STATUS_CHARGING,
                                  self.now())
        self.notify()

    def _on_map(self, m: OccupancyGrid) -> None:
        info = m.info
        origin = (info.origin.position.x, info.origin.position.y, yaw_from_msg(info.origin.orientation))
        grid = OccupancyMap.from_msg_fields(info.width, info.height, info.resolution, origin, m.data)
        self.state.set_map(FloorMap.from_occupancy_map(grid))
        self.notify()

    def _on_escort_feedback(self, m: Any) -> None:
        f = m.feedback
        self.state.update_escort({'phase': f.phase, 'distance_remaining': round(float(f.distance_remaining), 2),
                                  'visitor_status': int(f.visitor_status),
                                  'visitor_distance': round(float(f.visitor_distance), 2)})
        self.notify()

    def _on_escort_status(self, m: GoalStatusArray) -> None:
        active = (GoalStatus.STATUS_ACCEPTED, GoalStatus.STATUS_EXECUTING, GoalStatus.STATUS_CANCELING)
        if not any(s.status in active for s in m.status_list):
            self.state.update_escort(None)
            self.notify()

    def _on_alerts(self, m: StaffAlerts) -> None:
        self.state.update_alerts([{
            'id': a.id, 'kind': a.kind, 'severity': int(a.severity), 'source': a.source, 'raised': _seconds(a.raised),
            'active': a.active, 'acknowledged': a.acknowledged, 'acknowledged_by': a.acknowledged_by,
            'acknowledged_at': _seconds(a.acknowledged_at) or None} for a in m.alerts], self.now())
        self.notify()

    def _on_office(self, m: OfficeStatus) -> None:
        self.state.update_office({
            'phase': m.phase, 'accepting_escorts': m.accepting_escorts, 'reason': m.reason,
            'next_opening': m.next_opening, 'office_closes_at': m.office_closes_at, 'docked': m.docked,
            'action': m.action, 'busy': m.busy, 'battery_percent': _finite(m.battery_percent),
            'charging': m.charging, 'time_to_full_s': _finite(m.time_to_full_s), 'override': m.override,
            'fault': m.fault, 'alerts': list(m.alerts), 'screen': list(m.screen)}, self.now())
        self.notify()

    # --- bounded calls ---------------------------------------------------------------------------
    def _begin(self, client: Any, request: Any, *, wake: bool = True) -> concurrent.futures.Future:
        """Start a bounded call (service, or an action's goal); the future ends with its CallOutcome.

        ``wake=False``: the caller triggers ``self._wake`` itself once its calls are all sent."""
        done: concurrent.futures.Future = concurrent.futures.Future()
        self._caller.call(client, request, done.set_result, server_wait_s=0.0, answer_timeout_s=self.timeout_s)
        if wake:
            self._wake.trigger()
        return done

    def _call(self, client: Any, request: Any, what: str) -> tuple[bool, Any]:
        """(True, response) or (False, why) within the deadline; the call itself cannot hang."""
        outcome: CallOutcome = self._begin(client, request).result(timeout=self.timeout_s + 5.0)
        if outcome.ok:
            return True, outcome.value
        if outcome.reason == NO_SERVER:
            return False, f'{what} is not available'
        if outcome.reason == NO_ANSWER:
            return False, f'{what} did not answer within {self.timeout_s:.1f} s'
        return False, f'{what}: {outcome.reason}'

    def _cancel_all(self, client: Any, *, wake: bool = True) -> bool:
        """Cancel every goal of an action server (zero goal id and stamp = all, per the action protocol)."""
        if not client.service_is_ready():
            return False
        self._begin(client, CancelGoal.Request(), wake=wake)
        return True

    # --- RobotBridge: called from the web thread ------------------------------------------------
    def estop_begin(self, user: str) -> Callable[[], dict[str, Any]]:
        """Everything at once, without blocking, so the stop wins even if one part is slow: gate, speech,
        goals, joystick. Returns a blocking wait for the gate's confirmation."""
        self.stop_teleop()
        ready = self.cli_estop.service_is_ready()
        future = self._begin(self.cli_estop, SetBool.Request(data=True), wake=False) if ready else None
        self._pub_stop.publish(Empty())
        escort = self._cancel_all(self.cli_cancel_escort, wake=False)
        nav = self._cancel_all(self.cli_cancel_nav, wake=False)
        self._wake.trigger()  # once everything is on its way: the executor then counts the deadlines

        def confirmation() -> dict[str, Any]:
            if future is None:
                return {'ok': False, 'error': 'safety gate not reachable: use the hardware emergency stop!',
                        'escort_cancelled': escort, 'navigation_cancelled': nav}
            outcome: CallOutcome = future.result(timeout=self.timeout_s + 5.0)
            if not outcome.ok:
                return {'ok': False, 'error': 'safety gate did not confirm: use the hardware emergency stop!'}
            res = outcome.value
            return {'ok': bool(res.success), 'message': res.message, 'escort_cancelled': escort,
                    'navigation_cancelled': nav}
        return confirmation

    def resume(self, user: str) -> dict[str, Any]:
        ok, res = self._call(self.cli_estop, SetBool.Request(data=False), 'safety gate')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def send_to(self, target_id: str, language: str) -> dict[str, Any]:
        if not self.escort.server_is_ready():
            return {'ok': False, 'error': 'escort is not available'}
        ok, handle = self._call(self.escort, Escort.Goal(target_id=target_id, language=language,
                                                         with_visitor=False), 'escort')
        if not ok:
            return {'ok': False, 'error': 'escort did not answer'}
        if not handle.accepted:
            return {'ok': False, 'error': 'escort refused the goal'}
        return {'ok': True, 'target_id': target_id}

    def cancel_goal(self) -> dict[str, Any]:
        return {'ok': self._cancel_all(self.cli_cancel_escort)}

    def pause_escort(self, pause: bool) -> dict[str, Any]:
        """Pause holds the running escort where it is (session kept); ``pause=False`` continues it."""
        ok, res = self._call(self.cli_pause, SetBool.Request(data=pause), 'escort')
        return {'ok': bool(ok and res.success), 'paused': pause if ok and res.success else None,
                'message': res.message if ok else res}

    def say(self, text: str, language: str) -> dict[str, Any]:
        with self._lock:
            self._say_count += 1
            uid = f'panel-{self._say_count}'
        msg = SayRequest(utterance_id=uid, text=text, language=language, priority=SayRequest.PRIORITY_HIGH,
                         interruptible=False)
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self._pub_say.publish(msg)
        return {'ok': True, 'utterance_id': uid}

    def set_language(self, language: str) -> dict[str, Any]:
        ok, res = self._call(self.cli_language, SetLanguage.Request(language=language), 'dialogue')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def takeover(self, enable: bool) -> dict[str, Any]:
        ok, res = self._call(self.cli_takeover, SetBool.Request(data=enable), 'dialogue')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def reset_dialogue(self) -> dict[str, Any]:
        ok, res = self._call(self.cli_reset, Trigger.Request(), 'dialogue')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def acknowledge_alert(self, alert_id: str, user: str) -> dict[str, Any]:
        """A staff member saw the alert: the alerts node records who (and republishes its list)."""
        ok, res = self._call(self.cli_ack_alert, AcknowledgeAlert.Request(id=alert_id, user=user),
                             'alert service')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def stay_out(self, enable: bool) -> dict[str, Any]:
        """True keeps the robot out of the dock until released; False releases any override (dock now too)."""
        ok, res = self._call(self.cli_stay_out, SetBool.Request(data=enable), 'office')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def dock_now(self) -> dict[str, Any]:
        """Dock at once (a running escort is cancelled by the office node); until released or the next opening."""
        ok, res = self._call(self.cli_dock_now, Trigger.Request(), 'office')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def clear_fault(self) -> dict[str, Any]:
        """A failed dock/undock was dealt with: the office node tries again."""
        ok, res = self._call(self.cli_clear_fault, Trigger.Request(), 'office')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def visitor_input(self, action: str, value: str, language: str) -> None:
        """Touch actions go to /visitor/input; typed free text is an utterance like a spoken one."""
        stamp = self.node.get_clock().now().to_msg()
        if action == 'text':
            msg = RecognizedSpeech(text=value, language=language, confidence=1.0, source='typed')
            msg.header.stamp = stamp
            self._pub_recognized.publish(msg)
        else:
            msg = VisitorInput(action=action, value=value, language=language)
            msg.header.stamp = stamp
            self._pub_visitor.publish(msg)

    # --- joystick with dead-man (the rule itself: l2b2_panel.teleop) -----------------------------
    def teleop(self, owner: int, linear: float, angular: float) -> None:
        self._publish_teleop(self.deadman.command(owner, linear, angular, self.now()))
        if self._teleop_timer.is_canceled():
            self._wake.trigger()

    def teleop_release(self, owner: int) -> None:
        if self.deadman.release(owner):
            self._publish_teleop((0.0, 0.0))

    def stop_teleop(self) -> None:
        self._publish_teleop(self.deadman.stop())

    def _on_wake(self) -> None:
        if self.deadman.held is not None and self._teleop_timer.is_canceled():
            self._teleop_timer.reset()

    def _teleop_tick(self) -> None:
        command = self.deadman.tick(self.now())
        if command is not None:
            self._publish_teleop(command)
        if self.deadman.held is None:
            self._teleop_timer.cancel()  # nobody drives: no more ticks until the next command
            if self.deadman.held is not None:  # a command came in meanwhile (web thread)
                self._teleop_timer.reset()

    def _publish_teleop(self, command: tuple[float, float]) -> None:
        twist = Twist()
        twist.linear.x, twist.angular.z = command
        self._pub_teleop.publish(twist)


def _seconds(stamp: Any) -> float:
    """builtin_interfaces/Time as seconds (alert times are wall-clock: epoch seconds)."""
    return stamp.sec + stamp.nanosec * 1e-9


def _finite(value: float) -> float | None:
    """A float32 field with NaN for "unknown" as a JSON-safe value (None when NaN or infinite)."""
    v = float(value)
    return v if math.isfinite(v) else None


def _xy(pose: Pose2D) -> tuple[float, float]:
    return pose.x, pose.y


"""``l2b2-panel``: the staff panel and the visitor touch screen, served by one node beside rclpy.

The node turns ROS topics into the live :class:`PanelState` and browser actions into the product's
ROS interfaces (no second source of truth). The aiohttp server runs in its own thread and event
loop; everything it asks of the robot goes through the :class:`RobotBridge` methods below.

``l2b2-panel --set-password USER [--role staff|observer]`` writes the users file (first start).
"""
from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import getpass
import ipaddress
import os
from pathlib import Path
import sys
import threading
from typing import Any

from action_msgs.msg import GoalStatus, GoalStatusArray
from action_msgs.srv import CancelGoal
from aiohttp import web
from geometry_msgs.msg import Twist
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import (
    ComponentHealth,
    DialogueState,
    RecognizedSpeech,
    RobotStatus,
    SafetyState,
    SayRequest,
    SpeechStatus,
    TrackedPeople,
    VisitorInput,
)
from l2b2_interfaces.srv import SetLanguage
from nav_msgs.msg import OccupancyGrid, Odometry
from nav_msgs.msg import Path as PathMsg
from rclpy.action import ActionClient
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import BatteryState
from std_msgs.msg import Empty
from std_srvs.srv import SetBool, Trigger
from tf2_msgs.msg import TFMessage

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError, share_dir
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.node_main import run_node
from l2b2_common.params import Param, declare_params
from l2b2_common.qos import LATCHED, RELIABLE, SENSOR, STATUS
from l2b2_panel.audit import AuditLog
from l2b2_panel.auth import (
    ROLES,
    STAFF,
    Authenticator,
    AuthError,
    LoginThrottle,
    SessionStore,
    UserStore,
    default_users_file,
)
from l2b2_panel.state import FloorMap, PanelState, Pose2D, load_waypoints, yaw_from_quaternion
from l2b2_panel.web_app import PanelWebApp, WebConfig

#: The panel's settings live here in the stack (errors name this file and the key).
PANEL_CONFIG = 'config/panel.yaml'

PARAMS = [
    Param('host', '127.0.0.1', 'Address the web server listens on (0.0.0.0 for the office WLAN).'),
    Param('port', 8080, 'TCP port of the web server; 0 picks a free one (tests).', min=0, max=65535),
    Param('session_expiry_s', 8 * 3600.0, 'Staff sessions end this long after login.', min=60.0, max=7 * 86400.0),
    Param('users_file', '', 'Users file (hashed passwords); empty: $L2B2_STATE_DIR or ~/.local/state/l2b2.'),
    Param('audit_log', '', 'Audit log (JSON lines); empty: panel_audit.jsonl beside the users file.'),
    Param('demo_mode', False, 'Create the documented demo user (also when L2B2_MODE=sim). Never on a real robot.'),
    Param('cookie_secure', False, 'Mark the session cookie Secure (when served behind HTTPS).'),
    Param('visitor_networks', ['127.0.0.0/8', '::1/128'], 'Client networks allowed to open the visitor screen.',
          item_type=str),
    Param('update_rate_hz', 20.0, 'Most live updates per second pushed to each browser.', min=1.0, max=60.0),
    Param('teleop_rate_hz', 20.0, 'Rate of /cmd_vel_teleop while the joystick is held.', min=10.0, max=50.0),
    Param('teleop_deadman_s', 0.3, 'Stop driving when the page sent no joystick command for this long.',
          min=0.05, max=1.0),
    Param('max_linear_mps', 0.5, 'Joystick full deflection forward.', min=0.0, max=1.5),
    Param('max_angular_rps', 1.0, 'Joystick full deflection sideways.', min=0.0, max=3.0),
    Param('login_max_failures', 5, 'Failed logins allowed per address and per user name in the window.',
          min=1, max=100),
    Param('login_window_s', 300.0, 'Window for counting failed logins.', min=1.0, max=86400.0),
    Param('stale_after_s', 3.0, 'A component (or the whole robot) is shown stale/offline after this silence.',
          min=0.5, max=60.0),
    Param('service_timeout_s', 2.0, 'How long a control waits for a service answer.', min=0.1, max=30.0),
    Param('map_yaml', 'maps/buergerbuero.yaml', 'Static floor map (Nav2 map_server YAML), relative to the share dir.'),
    Param('waypoints_yaml', 'maps/buergerbuero_waypoints.yaml', 'Waypoints file, relative to the share dir.'),
    Param('catalog', '', 'Department catalog; empty: config/departments.yaml.'),
]


class PanelNode(Node):
    """ROS side of the panel; also the web app's RobotBridge."""

    def __init__(self, **kwargs: Any):
        super().__init__('panel', **kwargs)
        self.p = declare_params(self, PARAMS)
        self.health = HealthReporter(self, 'panel')
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self.state = PanelState(stale_after_s=self.p.stale_after_s)
        self._cb = ReentrantCallbackGroup()
        self._lock = threading.Lock()
        self._say_count = 0
        self._joy: tuple[int, float, float, float] | None = None  # owner, linear, angular, steady time
        self._teleop_active = False
        self._battery_topic_seen = False

        demo = self.p.demo_mode or os.environ.get('L2B2_MODE') == 'sim'
        users_path = Path(self.p.users_file) if self.p.users_file else default_users_file()
        try:
            users = UserStore(users_path)
        except AuthError as exc:
            raise ConfigError(users_path, 'users', str(exc)) from None
        if demo:
            users.enable_demo_user()
        audit_path = Path(self.p.audit_log) if self.p.audit_log else users_path.parent / 'panel_audit.jsonl'
        auth = Authenticator(users, SessionStore(self.p.session_expiry_s),
                             LoginThrottle(self.p.login_max_failures, self.p.login_window_s))
        self.audit = AuditLog(audit_path)
        self._load_static()

        self._pub_teleop = self.create_publisher(Twist, '/cmd_vel_teleop', RELIABLE)
        self._pub_say = self.create_publisher(SayRequest, '/speech/say', RELIABLE)
        self._pub_stop = self.create_publisher(Empty, '/speech/stop', RELIABLE)
        self._pub_visitor = self.create_publisher(VisitorInput, '/visitor/input', RELIABLE)
        self._pub_recognized = self.create_publisher(RecognizedSpeech, '/speech/recognized', RELIABLE)
        cb = self._cb
        self._cli_estop = self.create_client(SetBool, '/safety/estop', callback_group=cb)
        self._cli_reset = self.create_client(Trigger, '/dialogue/reset', callback_group=cb)
        self._cli_takeover = self.create_client(SetBool, '/dialogue/takeover', callback_group=cb)
        self._cli_language = self.create_client(SetLanguage, '/dialogue/set_language', callback_group=cb)
        self._cli_pause = self.create_client(SetBool, '/escort/pause', callback_group=cb)
        self._cli_cancel_escort = self.create_client(CancelGoal, '/escort/_action/cancel_goal', callback_group=cb)
        self._cli_cancel_nav = self.create_client(CancelGoal, '/navigate_to_pose/_action/cancel_goal',
                                                  callback_group=cb)
        self._escort = ActionClient(self, Escort, '/escort', callback_group=cb)

        sub = self.create_subscription
        sub(DialogueState, '/dialogue/state', self._on_dialogue, LATCHED)
        sub(RecognizedSpeech, '/speech/recognized', self._on_recognized, RELIABLE)
        sub(SayRequest, '/speech/say', self._on_say, RELIABLE)
        sub(SpeechStatus, '/speech/status', self._on_speech_status, STATUS)
        sub(ComponentHealth, '/l2b2/health', self._on_health, 50)
        sub(SafetyState, '/safety/state', self._on_safety, LATCHED)
        sub(RobotStatus, '/robot/status', self._on_robot_status, RELIABLE)
        sub(Odometry, '/odom', self._on_odom, SENSOR)
        sub(TFMessage, '/tf', self._on_tf, SENSOR)
        sub(PathMsg, '/plan', self._on_plan, RELIABLE)
        sub(TrackedPeople, '/people/tracked', self._on_people, SENSOR)
        sub(BatteryState, '/battery', self._on_battery, SENSOR)
        sub(OccupancyGrid, '/map', self._on_map, LATCHED)
        sub(Escort.Impl.FeedbackMessage, '/escort/_action/feedback', self._on_escort_feedback, RELIABLE)
        sub(GoalStatusArray, '/escort/_action/status', self._on_escort_status, LATCHED)

        self.create_timer(1.0 / self.p.teleop_rate_hz, self._teleop_tick, clock=self._steady)
        self.create_timer(5.0, self._retry_static, clock=self._steady)

        self.web = PanelWebApp(self.state, self, auth, self.audit, WebConfig(
            update_rate_hz=self.p.update_rate_hz, cookie_secure=self.p.cookie_secure,
            visitor_networks=_visitor_networks(list(self.p.visitor_networks)), demo_mode=demo,
            home_waypoint=self._home))
        self.port = self._start_web()
        self.url = f'http://{self.p.host}:{self.port}/'
        if len(users) == 0:
            self.health.set(DEGRADED, f'no staff user yet: run "l2b2-panel --set-password USER" ({users_path})')
        else:
            self.health.set(OK, f'serving {self.url}' + (' (demo user enabled)' if demo else ''))

    # --- static data -----------------------------------------------------------------------------
    def _resolve(self, name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else share_dir() / p

    def _load_static(self) -> None:
        catalog = load_catalog(self.p.catalog or None)
        self._home = catalog.home_waypoint
        targets = [{'id': t.id, 'name': dict(t.name), 'hint': dict(t.location_hint),
                    'appointments': t.scope_id is not None} for t in catalog.targets.values()]
        waypoints_file = self._resolve(self.p.waypoints_yaml)
        waypoints = load_waypoints(waypoints_file) if waypoints_file.exists() else {}
        self.state.set_static(targets, waypoints)
        self._static_map_loaded = False
        self._retry_static()

    def _retry_static(self) -> None:
        """The floor map may be generated after the panel starts: look again until it is there."""
        if not self._static_map_loaded and self.state.map_version == 0:
            path = self._resolve(self.p.map_yaml)
            if path.exists():
                try:
                    self.state.set_map(FloorMap.from_map_yaml(path))
                    self._static_map_loaded = True
                except (OSError, ValueError, KeyError) as exc:
                    self.get_logger().warning(f'cannot read floor map {path}: {exc}')
        if not self.state.waypoints:
            wp = self._resolve(self.p.waypoints_yaml)
            if wp.exists():
                self.state.set_static(self.state.targets, load_waypoints(wp))
        self._notify()

    # --- web server thread -----------------------------------------------------------------------
    def _start_web(self) -> int:
        started = threading.Event()
        result: dict[str, Any] = {}

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            runner = web.AppRunner(self.web.app, access_log=None)
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self.p.host, self.p.port)
                loop.run_until_complete(site.start())
                result['port'] = runner.addresses[0][1]
            except OSError as exc:
                result['error'] = exc
                started.set()
                return
            result['loop'], result['runner'] = loop, runner
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._web_thread = threading.Thread(target=serve, name='panel-web', daemon=True)
        self._web_thread.start()
        started.wait(15.0)
        if 'port' not in result:
            raise ConfigError(PANEL_CONFIG, 'panel.ros__parameters.host/port',
                              f'cannot serve on {self.p.host}:{self.p.port}: {result.get("error", "timeout")}')
        self._web_loop = result['loop']
        self.get_logger().info(f'panel on http://{self.p.host}:{result["port"]}/ (visitor screen: /visitor)')
        return result['port']

    def close(self) -> None:
        loop = getattr(self, '_web_loop', None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
            self._web_thread.join(timeout=5.0)
        self._web_loop = None

    def _notify(self) -> None:
        web_app = getattr(self, 'web', None)
        if web_app is not None:
            web_app.notify()

    # --- subscriptions ---------------------------------------------------------------------------
    def now(self) -> float:
        return self._steady.now().nanoseconds * 1e-9

    def _on_dialogue(self, m: DialogueState) -> None:
        self.state.update_dialogue({
            'state': m.state, 'language': m.language, 'intent': m.intent, 'target_id': m.target_id,
            'confidence': round(float(m.confidence), 2), 'candidates': list(m.candidates),
            'last_user_text': m.last_user_text, 'last_robot_text': m.last_robot_text, 'choices': list(m.choices),
            'staff_takeover': m.staff_takeover, 'display_number': m.display_number,
            'estimated_wait_minutes': int(m.estimated_wait_minutes)}, self.now())
        self._notify()

    def _on_recognized(self, m: RecognizedSpeech) -> None:
        self.state.update_recognized(m.text, m.language, m.source, self.now())
        self._notify()

    def _on_say(self, m: SayRequest) -> None:
        self.state.update_said(m.text, m.language, self.now())
        self._notify()

    def _on_speech_status(self, m: SpeechStatus) -> None:
        self.state.update_speech_status(m.state == SpeechStatus.SPEAKING, m.text, m.language, self.now())
        self._notify()

    def _on_health(self, m: ComponentHealth) -> None:
        if m.component != 'panel':
            self.state.update_health(m.component, int(m.level), m.message, self.now())
            self._notify()

    def _on_safety(self, m: SafetyState) -> None:
        self.state.update_safety(m.estop_active, m.estop_source, m.teleop_active, self.now())
        self._notify()

    def _on_robot_status(self, m: RobotStatus) -> None:
        self.state.update_robot_status(m.mode, m.escort_target_id, self.now())
        if m.battery_percent > 0 and not self._battery_topic_seen:
            self.state.update_battery(float(m.battery_percent), False, self.now())
        self._notify()

    def _on_odom(self, m: Odometry) -> None:
        p, q = m.pose.pose.position, m.pose.pose.orientation
        self.state.set_odom_to_base(Pose2D(p.x, p.y, yaw_from_quaternion(q.x, q.y, q.z, q.w)), self.now())
        self._notify()

    def _on_tf(self, m: TFMessage) -> None:
        for t in m.transforms:
            parent, child = t.header.frame_id.lstrip('/'), t.child_frame_id.lstrip('/')
            tr, q = t.transform.translation, t.transform.rotation
            pose = Pose2D(tr.x, tr.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
            if (parent, child) == ('map', 'odom'):
                self.state.set_map_to_odom(pose)
            elif (parent, child) == ('odom', 'base_link'):
                self.state.set_odom_to_base(pose, self.now())
            elif (parent, child) == ('map', 'base_link'):
                self.state.set_map_to_odom(Pose2D(0.0, 0.0, 0.0))
                self.state.set_odom_to_base(pose, self.now())
        self._notify()

    def _on_plan(self, m: PathMsg) -> None:
        self.state.update_plan([(ps.pose.position.x, ps.pose.position.y) for ps in m.poses])
        self._notify()

    def _on_people(self, m: TrackedPeople) -> None:
        people = [(int(p.id), p.position.x, p.position.y) for p in m.people]
        if m.header.frame_id.lstrip('/') == 'base_link':
            robot = self.state.robot_pose()
            if robot is None:
                return
            people = [(i, *_xy(robot.compose(Pose2D(x, y, 0.0)))) for i, x, y in people]
        self.state.update_people(people, self.now())
        self._notify()

    def _on_battery(self, m: BatteryState) -> None:
        self._battery_topic_seen = True
        pct = m.percentage
        percent = None if pct != pct else float(pct) * 100.0 if pct <= 1.0 else float(pct)
        self.state.update_battery(percent, m.power_supply_status == BatteryState.POWER_SUPPLY_STATUS_CHARGING,
                                  self.now())
        self._notify()

    def _on_map(self, m: OccupancyGrid) -> None:
        info = m.info
        q = info.origin.orientation
        origin = (info.origin.position.x, info.origin.position.y, yaw_from_quaternion(q.x, q.y, q.z, q.w))
        self.state.set_map(FloorMap.from_occupancy(info.width, info.height, info.resolution, origin, m.data))
        self._notify()

    def _on_escort_feedback(self, m: Any) -> None:
        f = m.feedback
        self.state.update_escort({'phase': f.phase, 'distance_remaining': round(float(f.distance_remaining), 2),
                                  'visitor_status': int(f.visitor_status),
                                  'visitor_distance': round(float(f.visitor_distance), 2)})
        self._notify()

    def _on_escort_status(self, m: GoalStatusArray) -> None:
        active = (GoalStatus.STATUS_ACCEPTED, GoalStatus.STATUS_EXECUTING, GoalStatus.STATUS_CANCELING)
        if not any(s.status in active for s in m.status_list):
            self.state.update_escort(None)
            self._notify()

    # --- RobotBridge: called from the web thread ------------------------------------------------
    def _call(self, client: Any, request: Any, what: str) -> tuple[bool, Any]:
        if not client.service_is_ready():
            return False, f'{what} is not available'
        done = threading.Event()
        future = client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        if not done.wait(self.p.service_timeout_s):
            return False, f'{what} did not answer within {self.p.service_timeout_s:.1f} s'
        return True, future.result()

    def _cancel_all(self, client: Any) -> bool:
        """Cancel every goal of an action server (zero goal id and stamp = all, per the action protocol)."""
        if not client.service_is_ready():
            return False
        client.call_async(CancelGoal.Request())
        return True

    def estop(self, user: str) -> dict[str, Any]:
        return self.estop_begin(user)()

    def estop_begin(self, user: str) -> Callable[[], dict[str, Any]]:
        """Everything at once, without blocking, so the stop wins even if one part is slow: gate, speech,
        goals, joystick. Returns a blocking wait for the gate's confirmation."""
        self._stop_teleop()
        ready = self._cli_estop.service_is_ready()
        future = self._cli_estop.call_async(SetBool.Request(data=True)) if ready else None
        self._pub_stop.publish(Empty())
        escort = self._cancel_all(self._cli_cancel_escort)
        nav = self._cancel_all(self._cli_cancel_nav)
        done = threading.Event()
        if future is not None:
            future.add_done_callback(lambda _f: done.set())

        def confirmation() -> dict[str, Any]:
            if future is None:
                return {'ok': False, 'error': 'safety gate not reachable: use the hardware emergency stop!',
                        'escort_cancelled': escort, 'navigation_cancelled': nav}
            if not done.wait(self.p.service_timeout_s):
                return {'ok': False, 'error': 'safety gate did not confirm: use the hardware emergency stop!'}
            res = future.result()
            return {'ok': bool(res.success), 'message': res.message, 'escort_cancelled': escort,
                    'navigation_cancelled': nav}
        return confirmation

    def resume(self, user: str) -> dict[str, Any]:
        ok, res = self._call(self._cli_estop, SetBool.Request(data=False), 'safety gate')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def send_to(self, target_id: str, language: str) -> dict[str, Any]:
        if not self._escort.server_is_ready():
            return {'ok': False, 'error': 'escort is not available'}
        done = threading.Event()
        future = self._escort.send_goal_async(Escort.Goal(target_id=target_id, language=language,
                                                          with_visitor=False))
        future.add_done_callback(lambda _f: done.set())
        if not done.wait(self.p.service_timeout_s):
            return {'ok': False, 'error': 'escort did not answer'}
        if not future.result().accepted:
            return {'ok': False, 'error': 'escort refused the goal'}
        return {'ok': True, 'target_id': target_id}

    def cancel_goal(self) -> dict[str, Any]:
        return {'ok': self._cancel_all(self._cli_cancel_escort)}

    def pause_escort(self, pause: bool) -> dict[str, Any]:
        """Pause holds the running escort where it is (session kept); ``pause=False`` continues it."""
        ok, res = self._call(self._cli_pause, SetBool.Request(data=pause), 'escort')
        return {'ok': bool(ok and res.success), 'paused': pause if ok and res.success else None,
                'message': res.message if ok else res}

    def say(self, text: str, language: str) -> dict[str, Any]:
        with self._lock:
            self._say_count += 1
            uid = f'panel-{self._say_count}'
        msg = SayRequest(utterance_id=uid, text=text, language=language, priority=SayRequest.PRIORITY_HIGH,
                         interruptible=False)
        msg.header.stamp = self.get_clock().now().to_msg()
        self._pub_say.publish(msg)
        return {'ok': True, 'utterance_id': uid}

    def set_language(self, language: str) -> dict[str, Any]:
        ok, res = self._call(self._cli_language, SetLanguage.Request(language=language), 'dialogue')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def takeover(self, enable: bool) -> dict[str, Any]:
        ok, res = self._call(self._cli_takeover, SetBool.Request(data=enable), 'dialogue')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def reset_dialogue(self) -> dict[str, Any]:
        ok, res = self._call(self._cli_reset, Trigger.Request(), 'dialogue')
        return {'ok': bool(ok and res.success), 'message': res.message if ok else res}

    def visitor_input(self, action: str, value: str, language: str) -> None:
        """Touch actions go to /visitor/input; typed free text is an utterance like a spoken one."""
        stamp = self.get_clock().now().to_msg()
        if action == 'text':
            msg = RecognizedSpeech(text=value, language=language, confidence=1.0, source='typed')
            msg.header.stamp = stamp
            self._pub_recognized.publish(msg)
        else:
            msg = VisitorInput(action=action, value=value, language=language)
            msg.header.stamp = stamp
            self._pub_visitor.publish(msg)

    # --- joystick with dead-man ------------------------------------------------------------------
    def teleop(self, owner: int, linear: float, angular: float) -> None:
        with self._lock:
            self._joy = (owner, linear, angular, self.now())
        self._teleop_tick(just_received=True)

    def teleop_release(self, owner: int) -> None:
        with self._lock:
            if self._joy is None or self._joy[0] != owner:
                return
        self._stop_teleop()

    def _stop_teleop(self) -> None:
        with self._lock:
            self._joy = None
            self._teleop_active = False
        self._pub_teleop.publish(Twist())

    def _teleop_tick(self, just_received: bool = False) -> None:
        """Re-send the held deflection, but only while the next tick still falls inside the dead-man.

        The gate stops on its own dead-man after the last command it got: re-publishing until our own
        dead-man ran out stacked the two (the robot stopped ~350 ms after the page went quiet). Sending the
        zero 1.5 ticks early keeps the whole path from the last browser command within ``teleop_deadman_s``.
        """
        with self._lock:
            joy = self._joy
            if joy is None:
                return
            _owner, lin, ang, stamp = joy
            # Half a tick more of margin for the way from the browser to here and on to the gate.
            fresh = just_received or self.now() - stamp + 1.5 / self.p.teleop_rate_hz <= self.p.teleop_deadman_s
            if not fresh:
                self._joy, self._teleop_active = None, False
            else:
                self._teleop_active = True
        twist = Twist()
        if fresh:
            twist.linear.x = lin * self.p.max_linear_mps
            twist.angular.z = ang * self.p.max_angular_rps
        self._pub_teleop.publish(twist)


def _visitor_networks(entries: list[str]) -> list[str]:
    """Each entry must be a network ("192.168.1.0/24", "::1/128"): a typo must stop the start, not the page."""
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ConfigError(PANEL_CONFIG, 'panel.ros__parameters.visitor_networks',
                              f'"{entry}" is not an IP network ({exc})') from None
    return entries


def _xy(pose: Pose2D) -> tuple[float, float]:
    return pose.x, pose.y


def set_password_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-panel', description='Set a staff password for the panel.')
    parser.add_argument('--set-password', metavar='USER', required=True, help='user name to add or change')
    parser.add_argument('--role', choices=ROLES, default=STAFF, help='staff (controls) or observer (read only)')
    parser.add_argument('--users-file', type=Path, default=None, help=f'default: {default_users_file()}')
    args = parser.parse_args(argv)
    path = args.users_file or default_users_file()
    if sys.stdin.isatty():
        password = getpass.getpass(f'New password for {args.set_password}: ')
        if getpass.getpass('Repeat: ') != password:
            print('l2b2-panel: the passwords differ', file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip('\n')
    try:
        store = UserStore(path)
        store.set_password(args.set_password, password, args.role)
    except AuthError as exc:
        print(f'l2b2-panel: {exc}', file=sys.stderr)
        return 1
    print(f'l2b2-panel: {args.role} "{args.set_password}" saved in {path}')
    return 0


def main(args: list[str] | None = None) -> int:
    argv = sys.argv[1:] if args is None else list(args)
    if '--set-password' in argv or any(a.startswith('--set-password=') for a in argv):
        return set_password_cli(argv)
    return run_node(PanelNode, args)


if __name__ == '__main__':
    sys.exit(main())

"""``l2b2-office``: the robot's working day and its battery, run on the robot (issue 16, items 1 and 2).

A thin node around :class:`l2b2_office.day_cycle.DayCycle` and :class:`l2b2_office.battery.BatteryPolicy`
(all rules live there): it feeds them the clock, /battery, whether a visitor is being served and the
results of Nav2's docking actions, and carries out their commands:

- ``undock`` / ``dock``: goals of Nav2's ``/undock_robot`` / ``/dock_robot`` (nav2_msgs UndockRobot,
  DockRobot; the simulation's ``l2b2-sim-dock`` serves the same); a refused goal or a missing server
  counts as a failed attempt (the day cycle retries, then alerts).
- ``go_home``: a ``/navigate_to_pose`` goal to the catalog's home waypoint.
- ``stop_here`` (critical battery): cancels every goal of ``/navigate_to_pose`` and ``/escort`` and our own
  docking goal, so the robot stands where it is. Not the emergency stop: the robot is fine, only empty.
- ``refuse_new_escorts`` / ``accept_escorts`` / ``alert``: in the status below and the node's health.

Outputs: ``/office/status`` (latched ``l2b2_interfaces/msg/OfficeStatus``, published on change, see
:meth:`OfficeNode.status_msg`; the escort refuses new visitor escorts while ``accepting_escorts`` is false)
and health ``office`` on /l2b2/health
(ERROR while an alert is active, its message starting with the alert kinds). Staff overrides:
``/office/stay_out`` (SetBool: true keeps the robot out, false releases any override), ``/office/dock_now``
(Trigger: dock at once, a running escort is cancelled) and ``/office/clear_fault`` (Trigger: after a
failed dock/undock was dealt with, try again).

Time: ``clock: wall`` (default) reads the calendar from the wall clock in the office's time zone;
``clock: sim`` maps ROS time (``use_sim_time``, /clock) onto the office day: sim time 0 is
``sim_day_start`` (ISO, office-local time unless it carries an offset), so a simulation or a test runs
a day -- opening, lunch break, closing -- at sim speed. Ticks run on the node clock either way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
import math
from typing import Any

from action_msgs.msg import GoalStatus, GoalStatusArray
from action_msgs.srv import CancelGoal
from geometry_msgs.msg import PoseStamped, Quaternion
from l2b2_interfaces.msg import DialogueState, OfficeStatus
from nav2_msgs.action import DockRobot, NavigateToPose, UndockRobot
from rclpy.action import ActionClient
from rclpy.clock import Clock, ClockType
from rclpy.qos import qos_profile_action_status_default
from sensor_msgs.msg import BatteryState
from std_srvs.srv import SetBool, Trigger

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError, config_path
from l2b2_common.geometry import quaternion_msg_fields
from l2b2_common.health import DEGRADED, ERROR, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.maps import load_waypoints, require_waypoints
from l2b2_common.node_main import run_node
from l2b2_common.qos import LATCHED
from l2b2_common.tunables import ParameterError, declare_tunables, tunable
from l2b2_office import day_cycle as dc
from l2b2_office.office_config import load_office_config

STATUS_TOPIC = '/office/status'
ACTIVE = (GoalStatus.STATUS_ACCEPTED, GoalStatus.STATUS_EXECUTING, GoalStatus.STATUS_CANCELING)
ON_DOCK = (BatteryState.POWER_SUPPLY_STATUS_CHARGING, BatteryState.POWER_SUPPLY_STATUS_FULL)
OFF_DOCK = (BatteryState.POWER_SUPPLY_STATUS_DISCHARGING, BatteryState.POWER_SUPPLY_STATUS_NOT_CHARGING)


@dataclass(frozen=True)
class OfficeNodeParams:
    """The node's settings (config/office_node.yaml); the day cycle and battery settings are config/office.yaml."""

    office_config: str = tunable('office.yaml', 'Day cycle, holidays and battery settings (under config/ or absolute).')
    catalog_file: str = tunable('', 'Department catalog with the opening hours; empty: config/departments.yaml.')
    waypoints_file: str = tunable('maps/buergerbuero_waypoints.yaml', 'Waypoint file with the home waypoint '
                                  '(relative to the share dir); the building setting sets it.')
    global_frame: str = tunable('map', 'Frame of the home goal.')
    clock: str = tunable('wall', 'wall: the calendar follows the wall clock; sim: ROS time (use_sim_time) with '
                         'sim time 0 at sim_day_start.', choices=('wall', 'sim'))
    sim_day_start: str = tunable('', 'clock sim: the office time at sim time 0, ISO 8601 (e.g. '
                                 '2026-12-07T07:25:00; office-local unless an offset is given).')
    tick_period_s: float = tunable(1.0, 'How often the clock is checked (node clock, s).', min=0.05, max=60.0)
    dock_id: str = tunable('ladestation', 'DockRobot dock_id (the docking server\'s dock database).')
    dock_type: str = tunable('', 'DockRobot/UndockRobot dock_type; empty with a single dock plugin.')
    max_staging_time_s: float = tunable(120.0, 'DockRobot max_staging_time: navigation to the staging pose (s).',
                                        min=1.0, max=3600.0)
    max_undocking_time_s: float = tunable(30.0, 'UndockRobot max_undocking_time (s).', min=1.0, max=600.0)
    server_wait_s: float = tunable(5.0, 'Wait this long (wall s) for an action server before the attempt '
                                   'counts as failed.', min=0.1, max=120.0)
    charger_settle_s: float = tunable(5.0, 'With no docking action running, a charger state (/battery '
                                      'CHARGING/FULL = on the dock) that contradicts the day cycle for this long '
                                      'is taken as the truth: the robot was put on or off the dock by hand (s).',
                                      min=0.5, max=600.0)


class OfficeNode(LeanNode):
    """Runs the day cycle and the battery policy; carries out their commands."""

    def __init__(self, **kwargs: Any):
        super().__init__('office', **kwargs)
        self.p = p = declare_tunables(self, OfficeNodeParams)
        try:
            self.config = load_office_config(config_path(p.office_config))
        except OSError as exc:
            raise ConfigError(p.office_config, '', str(exc)) from None
        catalog = load_catalog(p.catalog_file or None)
        waypoints = load_waypoints(p.waypoints_file)
        require_waypoints(waypoints, [catalog.home_waypoint], p.waypoints_file)
        self.home = waypoints[catalog.home_waypoint]
        self.calendar = dc.OfficeCalendar.from_catalog(catalog, self.config.holidays, self.config.tz)
        self.policy = self.config.battery_policy()
        self._day_start = self._parse_day_start()
        self.cycle: dc.DayCycle | None = None  # made at the first /battery: is the robot on the dock?
        self.percent = math.nan
        self._charger: bool | None = None
        self._charger_since = 0.0
        self._dialogue_busy = False
        self._escort_busy = False
        self._action: str | None = None   # 'dock' / 'undock' while its goal runs
        self._action_seq = 0
        self._action_handle = None
        self._action_ended = -math.inf
        self._home_handle = None
        self._note = ''                           # the last problem worth a health line (go home failed)
        self._home_running = False                # our go-home goal is under way
        self._home_seq = 0
        self._published: tuple | None = None

        self.health = HealthReporter(self, 'office')
        self._status_pub = self.create_publisher(OfficeStatus, STATUS_TOPIC, LATCHED)
        self._dock = ActionClient(self, DockRobot, '/dock_robot')
        self._undock = ActionClient(self, UndockRobot, '/undock_robot')
        self._nav = ActionClient(self, NavigateToPose, '/navigate_to_pose')
        self._cancel_nav = self.create_client(CancelGoal, '/navigate_to_pose/_action/cancel_goal')
        self._cancel_escort = self.create_client(CancelGoal, '/escort/_action/cancel_goal')
        self.create_subscription(BatteryState, '/battery', self._on_battery, 10)
        self.create_subscription(DialogueState, '/dialogue/state', self._on_dialogue, LATCHED)
        self.create_subscription(GoalStatusArray, '/escort/_action/status', self._on_escort_status,
                                 qos_profile_action_status_default)
        self.create_service(SetBool, '/office/stay_out', self._on_stay_out)
        self.create_service(Trigger, '/office/dock_now', self._on_dock_now)
        self.create_service(Trigger, '/office/clear_fault', self._on_clear_fault)
        self.create_timer(p.tick_period_s, self._tick)
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        # Waits for a docking server on the steady clock: a paused simulation must not hold a failure back.
        self._to_send: tuple | None = None
        self._send_timer = self.create_timer(0.05, self._send_pending, clock=self._steady, autostart=False)
        self.health.set(DEGRADED, 'waiting for /battery')
        self.get_logger().info(f'office day: clock {p.clock}, home {self.home.name}, '
                               f'{len(self.config.holidays)} holidays, tz {self.config.tz.key}')

    def _parse_day_start(self) -> datetime | None:
        p = self.p
        if p.clock != 'sim':
            return None
        if not self.get_parameter('use_sim_time').value:
            raise ParameterError(self.get_name(), 'clock', 'clock "sim" needs use_sim_time: true')
        try:
            start = datetime.fromisoformat(p.sim_day_start)
        except ValueError:
            raise ParameterError(self.get_name(), 'sim_day_start',
                                 f'"{p.sim_day_start}" is not an ISO date and time (e.g. 2026-12-07T07:25:00)') from None
        return self.calendar.local(start)

    # --- time ------------------------------------------------------------------------------------
    def _node_s(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def office_now(self) -> datetime:
        """The calendar's now: the wall clock, or sim time on ``sim_day_start``."""
        if self._day_start is None:
            return datetime.now(self.config.tz)
        return self._day_start + timedelta(seconds=self._node_s())

    # --- inputs ----------------------------------------------------------------------------------
    def _on_battery(self, msg: BatteryState) -> None:
        status = msg.power_supply_status
        charger = True if status in ON_DOCK else False if status in OFF_DOCK else None
        if charger != self._charger:
            self._charger, self._charger_since = charger, self._node_s()
        if math.isfinite(msg.percentage):
            self.percent = 100.0 * msg.percentage
        if self.cycle is None:
            self.cycle = dc.DayCycle(self.calendar, self.config.day_cycle, docked=charger is not False)
            self.get_logger().info(f'starting {"on" if self.cycle.docked else "off"} the dock')
            self._run(self.cycle.tick(self.office_now()))
            self._run(self.cycle.visitor_busy(self.busy))
        if math.isfinite(self.percent):
            for event in self.policy.update(self.percent):
                self.get_logger().info(f'battery {self.percent:.1f} %: {event}')
                self._run(self.cycle.battery_event(event))
        self._publish()

    def _on_dialogue(self, msg: DialogueState) -> None:
        self._dialogue_busy = msg.state not in ('', 'idle')
        self._busy_changed()

    def _on_escort_status(self, msg: GoalStatusArray) -> None:
        self._escort_busy = any(s.status in ACTIVE for s in msg.status_list)
        self._busy_changed()

    @property
    def busy(self) -> bool:
        """A visitor is being served: a conversation or an escort is running."""
        return self._dialogue_busy or self._escort_busy

    def _busy_changed(self) -> None:
        if self.cycle is not None and self.busy != self.cycle.busy:
            self._run(self.cycle.visitor_busy(self.busy))
            self._publish()

    def _tick(self) -> None:
        if self.cycle is None:
            return
        self._run(self.cycle.tick(self.office_now()))
        self._follow_charger()
        self._publish()

    def _follow_charger(self) -> None:
        """Believe the charger over the day cycle when no docking runs: the robot was carried or pushed, or a
        dock of ours did not charge (the cycle docks again, then alerts)."""
        c = self.cycle
        if self._charger is None or self._action is not None or c.pending is not None:
            return
        now = self._node_s()
        settle = self.p.charger_settle_s
        if now - self._charger_since >= settle and now - self._action_ended >= settle:
            if self._charger != c.docked:
                self.get_logger().info(f'the charger says the robot is {"on" if self._charger else "off"} the dock')
            self._run(c.charger(self._charger))

    # --- staff ---------------------------------------------------------------------------------------
    def _on_stay_out(self, req: SetBool.Request, res: SetBool.Response) -> SetBool.Response:
        if self.cycle is None:
            res.success, res.message = False, 'not started: no /battery yet'
            return res
        self._run(self.cycle.stay_out() if req.data else self.cycle.release_override())
        self._publish()
        res.success, res.message = True, 'staying out until released' if req.data else 'override released'
        return res

    def _on_dock_now(self, _req, res: Trigger.Response) -> Trigger.Response:
        if self.cycle is None:
            res.success, res.message = False, 'not started: no /battery yet'
            return res
        self._run(self.cycle.dock_now())
        self._publish()
        res.success, res.message = True, 'docking now (until released or the next opening)'
        return res

    def _on_clear_fault(self, _req, res: Trigger.Response) -> Trigger.Response:
        if self.cycle is None:
            res.success, res.message = False, 'not started: no /battery yet'
            return res
        fault = self.cycle.fault
        self._run(self.cycle.clear_fault())
        self._publish()
        res.success, res.message = True, f'cleared {fault}' if fault else 'no fault'
        return res

    # --- commands --------------------------------------------------------------------------------
    def _run(self, commands: list[dc.Command]) -> None:
        for cmd in commands:
            self.get_logger().info(f'day cycle: {cmd}')
            if cmd.kind == dc.UNDOCK:
                goal = UndockRobot.Goal(dock_type=self.p.dock_type, max_undocking_time=self.p.max_undocking_time_s)
                self._start_action(dc.UNDOCK, self._undock, goal)
            elif cmd.kind == dc.DOCK:
                if self.busy:  # only with dock_now: the visitor is not finished, the escort ends here
                    self._cancel_all(self._cancel_escort)
                goal = DockRobot.Goal(use_dock_id=True, dock_id=self.p.dock_id, dock_type=self.p.dock_type,
                                      max_staging_time=self.p.max_staging_time_s, navigate_to_staging_pose=True)
                self._start_action(dc.DOCK, self._dock, goal)
            elif cmd.kind == dc.GO_HOME:
                self._go_home()
            elif cmd.kind == dc.STOP_HERE:
                self._stop_here()
            elif cmd.kind == dc.ALERT:
                self.get_logger().error(f'staff alert: {cmd.arg}')
            # refuse_new_escorts / accept_escorts: the status says so (accepting_escorts, reason)

    def _start_action(self, kind: str, client: ActionClient, goal) -> None:
        """Send a dock/undock goal once its server is there (polled, never blocking the executor)."""
        self._action_seq += 1
        self._action, self._action_handle = kind, None
        self._to_send = (self._action_seq, kind, client, goal, self._steady_s() + self.p.server_wait_s)
        self._send_timer.reset()
        self._send_pending()

    def _steady_s(self) -> float:
        return self._steady.now().nanoseconds * 1e-9

    def _send_pending(self) -> None:
        if self._to_send is None:
            self._send_timer.cancel()
            return
        seq, kind, client, goal, deadline = self._to_send
        if seq != self._action_seq:
            self._to_send = None
        elif client.server_is_ready():
            self._to_send = None
            client.send_goal_async(goal).add_done_callback(lambda f: self._on_goal_response(seq, kind, f))
        elif self._steady_s() > deadline:
            self._to_send = None
            self._action_done(seq, kind, False, f'no /{kind}_robot action server')
        if self._to_send is None:
            self._send_timer.cancel()

    def _on_goal_response(self, seq: int, kind: str, future) -> None:
        handle = future.result()
        if handle is None or not handle.accepted:
            self._action_done(seq, kind, False, 'goal refused')
            return
        if seq != self._action_seq:
            handle.cancel_goal_async()
            return
        self._action_handle = handle
        handle.get_result_async().add_done_callback(lambda f: self._on_action_result(seq, kind, f))

    def _on_action_result(self, seq: int, kind: str, future) -> None:
        res = future.result()
        ok = res is not None and res.status == GoalStatus.STATUS_SUCCEEDED and res.result.success
        why = '' if ok else (res.result.error_msg or f'error code {res.result.error_code}') if res else 'no result'
        self._action_done(seq, kind, ok, why)

    def _action_done(self, seq: int, kind: str, ok: bool, why: str) -> None:
        if seq != self._action_seq:
            return  # superseded (stop_here cancelled it): the day cycle no longer waits for it
        self._action, self._action_handle = None, None
        self._action_ended = self._node_s()
        if ok:
            self.get_logger().info(f'{kind} succeeded')
        else:
            self.get_logger().warning(f'{kind} failed: {why}')
        self._run(self.cycle.undock_result(ok) if kind == dc.UNDOCK else self.cycle.dock_result(ok))
        self._publish()

    def _go_home(self) -> None:
        if not self._nav.server_is_ready():
            self._note = 'cannot go home: no navigate_to_pose server'
            self.get_logger().warning(self._note)
            return
        goal = NavigateToPose.Goal(pose=PoseStamped())
        goal.pose.header.frame_id = self.p.global_frame
        goal.pose.header.stamp = self.get_clock().now().to_msg()
        goal.pose.pose.position.x, goal.pose.pose.position.y = self.home.x, self.home.y
        goal.pose.pose.orientation = Quaternion(**quaternion_msg_fields(self.home.yaw))
        self._home_seq += 1
        seq = self._home_seq
        self._home_running = True

        def answered(future) -> None:
            handle = future.result()
            if handle is None or not handle.accepted:
                self._note = 'going home refused by the navigator'
                if seq == self._home_seq:
                    self._home_running = False
                self._publish()
                return
            self._home_handle = handle
            handle.get_result_async().add_done_callback(done)

        def done(future) -> None:
            res = future.result()
            if seq == self._home_seq:  # a newer go-home goal still runs otherwise
                self._home_running = False
            if res is not None and res.status == GoalStatus.STATUS_SUCCEEDED:
                self._note = ''
            elif res is not None and res.status != GoalStatus.STATUS_CANCELED:
                self._note = f'going home failed: {res.result.error_msg or res.result.error_code}'
                self.get_logger().warning(self._note)
            self._publish()

        self._nav.send_goal_async(goal).add_done_callback(answered)

    def _stop_here(self) -> None:
        """Critical battery: every goal that moves the robot is cancelled; our docking one is forgotten."""
        self._action_seq += 1  # a result still coming is no longer awaited
        if self._action_handle is not None:
            self._action_handle.cancel_goal_async()
        self._action, self._action_handle = None, None
        self._action_ended = self._node_s()
        self._cancel_all(self._cancel_escort)
        self._cancel_all(self._cancel_nav)

    def _cancel_all(self, client) -> None:
        """Cancel every goal of an action server (a zero goal id and stamp means all, in rcl_action)."""
        if client.service_is_ready():
            client.call_async(CancelGoal.Request())
        else:
            self.get_logger().warning(f'cannot cancel: no {client.srv_name} service')

    # --- outputs ---------------------------------------------------------------------------------
    def activity(self) -> str:
        """OfficeStatus.action: what the robot does for the day cycle now."""
        if self._action == dc.DOCK:
            return 'docking'
        if self._action == dc.UNDOCK:
            return 'undocking'
        if self._home_running:
            return 'going_home'
        if self.cycle is not None and self.cycle.battery == dc.BATTERY_CRITICAL and not self.cycle.docked:
            return 'stopped'
        return ''

    def status_msg(self) -> OfficeStatus:
        """What /office/status carries (times ISO 8601 with the office's offset, '' unknown; NaN unknown)."""
        c = self.cycle
        charging = bool(self._charger)
        msg = OfficeStatus(charging=charging, battery_percent=math.nan, time_to_full_s=math.nan)
        msg.header.stamp = self.get_clock().now().to_msg()
        if math.isfinite(self.percent):
            msg.battery_percent = round(min(100.0, max(0.0, self.percent)), 1)
        if c is None:
            msg.phase, msg.accepting_escorts, msg.reason = 'starting', False, 'starting'
            return msg
        s = c.status
        if charging and math.isfinite(self.percent):
            model = self.config.battery_model(min(100.0, max(0.0, self.percent)))
            msg.time_to_full_s = float(round(model.time_to_full_s() / 60.0) * 60)
        msg.phase, msg.accepting_escorts, msg.reason = s.phase, s.accepting_escorts, s.reason or ''
        msg.next_opening, msg.office_closes_at = _iso(s.next_opening), _iso(s.office_closes_at)
        msg.docked, msg.action, msg.busy = s.docked, self.activity(), c.busy
        msg.override = '' if s.override == dc.NO_OVERRIDE else s.override
        msg.fault = s.fault or ''
        msg.alerts = [a for a in (c.battery if c.battery == dc.BATTERY_CRITICAL else None, c.fault) if a]
        msg.screen = list(s.screen)
        return msg

    def _publish(self) -> None:
        msg = self.status_msg()
        key = _content(msg)
        if key != self._published:
            self._published = key
            self._status_pub.publish(msg)
        self._update_health(msg)

    def _update_health(self, status: OfficeStatus) -> None:
        if self.cycle is None:
            return
        if status.alerts:
            self.health.set(ERROR, f'{", ".join(status.alerts)}: staff needed', phase=status.phase)
        elif status.reason == dc.BATTERY_LOW:
            self.health.set(DEGRADED, 'battery low: charging before new escorts', phase=status.phase)
        elif self._note:
            self.health.set(DEGRADED, self._note, phase=status.phase)
        else:
            self.health.set(OK, status.phase, phase=status.phase,
                            accepting=str(status.accepting_escorts).lower())


def _content(msg: OfficeStatus) -> tuple:
    """The message without its stamp, NaN made comparable: publish only when this changes."""
    def value(v):
        if isinstance(v, float) and math.isnan(v):
            return None
        return tuple(v) if isinstance(v, list) else v
    return tuple(value(getattr(msg, f)) for f in msg.get_fields_and_field_types() if f != 'header')


def _iso(at: datetime | None) -> str:
    return at.isoformat(timespec='seconds') if at is not None else ''


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: OfficeNode(), args)


if __name__ == '__main__':
    raise SystemExit(main())

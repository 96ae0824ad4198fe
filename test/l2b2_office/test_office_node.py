"""The office node on a simulated Monday: real rclpy, real action servers standing in for Nav2's docking
server and navigator, /clock driven by the test (``clock: sim``), /battery and /dialogue/state published.
"""
from __future__ import annotations

import math
import threading

from action_msgs.msg import GoalStatus
from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth, DialogueState, OfficeStatus
from nav2_msgs.action import DockRobot, NavigateToPose, UndockRobot
import pytest
from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.parameter import Parameter
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import BatteryState
from std_srvs.srv import SetBool, Trigger

from l2b2_common.catalog import load_catalog
from l2b2_common.maps import load_waypoints
from l2b2_common.params import ParameterError
from l2b2_common.qos import LATCHED
from l2b2_office.office_node import OfficeNode

#: A Monday: the office opens at 07:30, breaks 12:00-14:00 and closes at 16:00 (config/departments.yaml).
DAY_START = '2026-12-07T07:29:00'
OPENING_S = 61.0            # 07:30:01
LUNCH_S = 4 * 3600 + 31 * 60 + 1.0  # 12:00:01
CHARGING = BatteryState.POWER_SUPPLY_STATUS_CHARGING
DISCHARGING = BatteryState.POWER_SUPPLY_STATUS_DISCHARGING


class FakeServer:
    """An action server recording its goals; each ends as ``outcomes`` says (default: success), or is held
    until cancelled when ``hold`` is set."""

    def __init__(self, node, action, name: str):
        self.action = action
        self.goals: list = []
        self.cancelled = 0
        self.outcomes: list[bool] = []
        self.hold = False
        self._server = ActionServer(node, action, name, execute_callback=self._execute,
                                    goal_callback=lambda _g: GoalResponse.ACCEPT,
                                    cancel_callback=lambda _h: CancelResponse.ACCEPT,
                                    callback_group=ReentrantCallbackGroup())
        self._stop = threading.Event()

    def _execute(self, handle):
        self.goals.append(handle.request)
        result = self.action.Result()
        if self.hold:
            while not handle.is_cancel_requested and not self._stop.wait(0.01):
                pass
            self.cancelled += 1
            handle.canceled()
            return result
        ok = self.outcomes.pop(0) if self.outcomes else True
        if hasattr(result, 'success'):
            result.success = ok
            result.error_code = 0 if ok else 905  # FAILED_TO_CONTROL
            result.error_msg = '' if ok else 'simulated failure'
        if ok:
            handle.succeed()
        else:
            handle.abort()
        return result

    def close(self):
        self._stop.set()


class Office:
    """The office node and the test's hands: clock, battery, dialogue, fake Nav2, status and health."""

    def __init__(self, ros, **params):
        self.ros = ros
        self.probe = probe = ros.node('office_probe')
        self.clock_pub = probe.create_publisher(Clock, '/clock', 10)
        self.battery_pub = probe.create_publisher(BatteryState, '/battery', 10)
        self.dialogue_pub = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
        self.statuses: list[OfficeStatus] = []
        self.health: list[ComponentHealth] = []
        probe.create_subscription(OfficeStatus, '/office/status', self.statuses.append, LATCHED)
        probe.create_subscription(ComponentHealth, '/l2b2/health',
                                  lambda m: m.component == 'office' and self.health.append(m), 10)
        self.dock = FakeServer(probe, DockRobot, '/dock_robot')
        self.undock = FakeServer(probe, UndockRobot, '/undock_robot')
        self.nav = FakeServer(probe, NavigateToPose, '/navigate_to_pose')
        self.stay_out = probe.create_client(SetBool, '/office/stay_out')
        self.dock_now = probe.create_client(Trigger, '/office/dock_now')
        self.clear_fault = probe.create_client(Trigger, '/office/clear_fault')
        self.now_s = 0.0
        self.publish_clock(0.0)
        overrides = {'use_sim_time': True, 'clock': 'sim', 'sim_day_start': DAY_START, 'tick_period_s': 1.0,
                     'server_wait_s': 2.0, 'charger_settle_s': 5.0, **params}
        self.node = ros.add(OfficeNode(context=ros.context,
                                       parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()]))
        ros.wait_for(lambda: self.dock_now.service_is_ready() and self.stay_out.service_is_ready(), 10.0,
                     'office services')

    def close(self):
        for server in (self.dock, self.undock, self.nav):
            server.close()

    # --- the test's hands --------------------------------------------------------------------------
    def publish_clock(self, seconds: float) -> None:
        sec = int(seconds)
        self.clock_pub.publish(Clock(clock=Time(sec=sec, nanosec=int((seconds - sec) * 1e9))))

    def at(self, seconds: float) -> None:
        """Move sim time to ``seconds`` after the day start and wait until the node sees it."""
        self.now_s = seconds
        self.ros.wait_for(lambda: self.publish_clock(seconds)
                          or self.node.get_clock().now().nanoseconds >= int(seconds * 1e9) - 1000,
                          10.0, f'the office node at sim time {seconds}')

    def battery(self, percent: float, status: int) -> None:
        self.battery_pub.publish(BatteryState(percentage=percent / 100.0, power_supply_status=status, present=True))

    def dialogue(self, state: str) -> None:
        self.dialogue_pub.publish(DialogueState(state=state))

    def status(self) -> OfficeStatus | None:
        return self.statuses[-1] if self.statuses else None

    def wait_status(self, what: str, timeout: float = 10.0, **expected) -> OfficeStatus:
        def matches():
            s = self.status()
            return s if s is not None and all(getattr(s, k) == v for k, v in expected.items()) else None
        return self.ros.wait_for(matches, timeout, f'status {what}: {expected} (last: {self.status()})')

    def advance(self, seconds: float) -> None:
        """Let sim time run on in one-second steps (the node ticks once a second)."""
        for t in range(int(self.now_s) + 1, int(self.now_s + seconds) + 1):
            self.at(float(t))

    def call(self, client, request):
        self.ros.wait_for(client.service_is_ready, 10.0, client.srv_name)
        return self.ros.wait_future(client.call_async(request), 10.0, client.srv_name)


@pytest.fixture
def office(ros):
    made: list[Office] = []

    def make(**params) -> Office:
        made.append(Office(ros, **params))
        return made[-1]

    yield make
    for o in made:
        o.close()


def start_open_off_the_dock(office, percent: float = 60.0) -> Office:
    """The office is open and the robot is out (a restart mid-day): no undock."""
    o = office()
    o.at(OPENING_S + 60)
    o.battery(percent, DISCHARGING)
    o.wait_status('open and accepting', phase='open', accepting_escorts=True, docked=False)
    return o


# --- the day ---------------------------------------------------------------------------------------------

def test_opening_undocks_and_goes_home_closing_docks_once_the_visitor_is_served(office):
    o = office()
    o.battery(90.0, CHARGING)
    s = o.wait_status('before opening', phase='before_opening', docked=True, accepting_escorts=False)
    assert s.reason == 'office_closed' and s.next_opening == '2026-12-07T07:30:00+01:00'
    assert 'next_opening' in s.screen and s.charging is True and s.time_to_full_s > 0
    assert s.battery_percent == pytest.approx(90.0) and s.action == '' and s.override == '' and s.fault == ''
    assert not o.undock.goals

    o.at(OPENING_S)
    o.ros.wait_for(lambda: o.nav.goals, 10.0, 'the home goal after undocking')
    assert len(o.undock.goals) == 1 and not o.dock.goals
    home = load_waypoints()[load_catalog().home_waypoint]
    goal = o.nav.goals[0].pose
    assert goal.header.frame_id == 'map'
    assert (goal.pose.position.x, goal.pose.position.y) == pytest.approx((home.x, home.y))
    o.battery(89.0, DISCHARGING)
    s = o.wait_status('open', phase='open', accepting_escorts=True, docked=False, reason='', action='', charging=False)
    assert s.office_closes_at == '2026-12-07T12:00:00+01:00' and math.isnan(s.time_to_full_s)

    # Lunch break (two hours: on the dock), but a visitor is being served: no dock until they are done.
    o.dialogue('escorting')
    o.wait_status('busy', busy=True)
    o.at(LUNCH_S)
    o.wait_status('closing', phase='closing', accepting_escorts=False, reason='office_closed')
    o.advance(3)
    assert not o.dock.goals
    o.dialogue('idle')
    o.ros.wait_for(lambda: o.dock.goals, 10.0, 'the dock goal once the visitor is served')
    goal = o.dock.goals[0]
    assert goal.use_dock_id and goal.dock_id == 'ladestation' and goal.navigate_to_staging_pose
    o.battery(88.0, CHARGING)
    o.wait_status('resting on the dock until 14:00', phase='before_opening', docked=True,
                  next_opening='2026-12-07T14:00:00+01:00')
    o.advance(6)  # the charger agrees: nothing changes
    assert len(o.dock.goals) == 1 and len(o.undock.goals) == 1


def test_low_battery_refuses_escorts_docks_and_resumes_when_charged(office):
    o = start_open_off_the_dock(office, 30.0)
    o.battery(19.0, DISCHARGING)
    o.wait_status('refusing for the battery', accepting_escorts=False, reason='battery_low')
    o.ros.wait_for(lambda: o.dock.goals, 10.0, 'the dock goal')
    o.battery(19.5, CHARGING)
    s = o.wait_status('charging on the dock', docked=True, charging=True, reason='battery_low')
    assert s.screen == ['robot_charging', 'use_screen_or_info_desk']
    assert 3600 < s.time_to_full_s < 4 * 3600
    assert not o.undock.goals
    o.battery(79.0, CHARGING)
    o.advance(2)
    assert not o.undock.goals  # below the resume level
    o.battery(81.0, CHARGING)
    o.ros.wait_for(lambda: o.undock.goals and o.nav.goals, 10.0, 'undock and go home when charged')
    o.battery(81.0, DISCHARGING)
    o.wait_status('accepting again', accepting_escorts=True, reason='', docked=False)


def test_critical_battery_cancels_navigation_stops_and_alerts(office):
    o = start_open_off_the_dock(office, 30.0)
    o.nav.hold = o.dock.hold = True
    # An escort's navigation goal is running (sent by someone else: the node cancels them all).
    client = ActionClient(o.probe, NavigateToPose, '/navigate_to_pose')
    o.ros.wait_for(client.server_is_ready, 10.0, 'navigate_to_pose')
    handle = o.ros.wait_future(client.send_goal_async(NavigateToPose.Goal(pose=PoseStamped())), 10.0, 'goal')
    result = handle.get_result_async()
    o.battery(5.0, DISCHARGING)  # low and critical at once: the dock goal starts and is cancelled again
    s = o.wait_status('critical', reason='battery_critical', accepting_escorts=False)
    assert s.alerts == ['battery_critical']
    assert o.ros.wait_future(result, 10.0, 'the navigation cancelled').status == GoalStatus.STATUS_CANCELED
    o.ros.wait_for(lambda: o.health and o.health[-1].level == ComponentHealth.ERROR
                   and o.health[-1].message.startswith('battery_critical'), 10.0, 'health ERROR')
    o.ros.wait_for(lambda: o.dock.cancelled == len(o.dock.goals), 10.0, 'no dock goal left running')
    o.advance(3)
    assert o.status().docked is False and o.status().action == 'stopped'


def test_a_failing_undock_is_retried_then_alerted(office):
    o = office()
    o.undock.outcomes = [False, False, False]
    o.battery(90.0, CHARGING)
    o.wait_status('before opening', phase='before_opening')
    o.at(OPENING_S)
    s = o.wait_status('undock fault', fault='undock_failed', accepting_escorts=False)
    assert len(o.undock.goals) == 3  # one try and the two retries of config/office.yaml
    assert s.alerts == ['undock_failed'] and s.screen == ['robot_unavailable', 'use_screen_or_info_desk']
    o.advance(2)
    assert len(o.undock.goals) == 3 and not o.nav.goals
    reply = o.call(o.clear_fault, Trigger.Request())
    assert reply.success and 'undock_failed' in reply.message
    o.ros.wait_for(lambda: len(o.undock.goals) == 4 and o.nav.goals, 10.0, 'a new try after clear_fault')
    o.wait_status('out', fault='', alerts=[], docked=False)


def test_staff_dock_now_and_stay_out(office):
    o = start_open_off_the_dock(office)
    reply = o.call(o.dock_now, Trigger.Request())
    assert reply.success
    o.ros.wait_for(lambda: o.dock.goals, 10.0, 'dock now')
    o.battery(60.0, CHARGING)
    o.wait_status('docked by staff', override='dock_now', reason='staff_dock_now', docked=True)

    assert o.call(o.stay_out, SetBool.Request(data=True)).success
    o.ros.wait_for(lambda: o.undock.goals and o.nav.goals, 10.0, 'out again')
    o.battery(60.0, DISCHARGING)
    o.wait_status('staying out', override='stay_out', accepting_escorts=True, docked=False)
    o.at(LUNCH_S)  # the lunch break: the robot stays out and keeps serving
    o.advance(2)
    assert len(o.dock.goals) == 1
    assert o.status().accepting_escorts is True

    assert o.call(o.stay_out, SetBool.Request(data=False)).success
    o.ros.wait_for(lambda: len(o.dock.goals) == 2, 10.0, 'docking once released in the break')
    o.wait_status('released', override='', reason='office_closed')


def test_a_running_escort_holds_the_dock_back_until_staff_say_dock_now(office):
    o = start_open_off_the_dock(office)
    escort = FakeServer(o.probe, Escort, '/escort')
    escort.hold = True
    client = ActionClient(o.probe, Escort, '/escort')
    o.ros.wait_for(client.server_is_ready, 10.0, '/escort')
    handle = o.ros.wait_future(client.send_goal_async(Escort.Goal(target_id='kasse')), 10.0, 'escort goal')
    o.wait_status('busy with the escort', busy=True)
    o.at(LUNCH_S)
    o.wait_status('closing', phase='closing')
    o.advance(2)
    assert not o.dock.goals
    assert o.call(o.dock_now, Trigger.Request()).success
    done = o.ros.wait_future(handle.get_result_async(), 10.0, 'the escort cancelled')
    assert done.status == GoalStatus.STATUS_CANCELED
    o.ros.wait_for(lambda: o.dock.goals, 10.0, 'docking at once')
    escort.close()


def test_the_sim_clock_needs_a_day_start(ros):
    with pytest.raises(ParameterError, match='sim_day_start'):
        OfficeNode(context=ros.context, parameter_overrides=[
            Parameter('use_sim_time', value=True), Parameter('clock', value='sim'),
            Parameter('sim_day_start', value='Montag früh')])


def test_the_status_says_what_the_robot_does_and_is_published_only_on_change(office):
    o = start_open_off_the_dock(office)
    n = len(o.statuses)
    o.advance(3)  # the clock ticks, nothing else changes
    assert len(o.statuses) == n
    o.dock.hold = True
    assert o.call(o.dock_now, Trigger.Request()).success
    o.wait_status('docking', action='docking', override='dock_now', accepting_escorts=False)
    o.advance(2)
    assert o.statuses[-1].action == 'docking' and len(o.statuses) == n + 1
    o.dock.close()  # the held goal ends (cancelled): counted as a failed attempt, retried, then a fault
    o.wait_status('dock failed', fault='dock_failed', action='')

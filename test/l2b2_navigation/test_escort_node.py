"""The escort action server against the shared fake NavigateToPose server and a published visitor."""
from __future__ import annotations

import math

from action_msgs.msg import GoalStatus
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import (
    ComponentHealth,
    OfficeStatus,
    RobotStatus,
    SafetyState,
    SayRequest,
    TrackedPeople,
    TrackedPerson,
)
import pytest
import rclpy
from rclpy.action import ActionClient
from rclpy.parameter import Parameter

from l2b2_common.catalog import load_catalog
from l2b2_common.codes import EscortOutcome
from l2b2_common.qos import LATCHED
from l2b2_navigation.escort_node import EscortNode
from l2b2_navigation.fakes import FakeNavigateToPose

FAR = (8.0, 0.0)  # meldestelle in the test floor: a straight walk from home at (0, 0)


@pytest.fixture
def floor(tmp_path):
    """A test waypoint file: home at the origin, meldestelle 8 m ahead, every other target 2 m away."""
    lines = ['waypoints:', '  home: {x: 0.0, y: 0.0}']
    for i, target in enumerate(load_catalog().targets.values()):
        x, y = FAR if target.id == 'meldestelle' else (2.0, 0.1 * i)
        lines.append(f'  {target.waypoint}: {{x: {x}, y: {y}, yaw: 0.0}}')
    path = tmp_path / 'waypoints.yaml'
    path.write_text('\n'.join(lines) + '\n')
    return path


class Visitor:
    """The visitor on /people/tracked (20 Hz): following 1 m behind the fake robot, standing still, or gone."""

    def __init__(self, ros, nav: FakeNavigateToPose):
        self.nav, self.mode, self.xy, self.id = nav, 'follow', (-1.0, 0.0), 7
        self.node = ros.node('visitor')
        self.pub = self.node.create_publisher(TrackedPeople, '/people/tracked', 10)
        self.node.create_timer(0.05, self._publish)

    def _publish(self):
        pose = self.nav.pose
        people = TrackedPeople()
        people.header.frame_id = 'map'
        people.header.stamp = self.node.get_clock().now().to_msg()
        if self.mode == 'follow':
            self.xy = (pose.x - math.cos(pose.yaw), pose.y - math.sin(pose.yaw))
        if self.mode != 'gone':
            person = TrackedPerson(id=self.id, confidence=1.0)
            person.position.x, person.position.y = self.xy
            people.people.append(person)
        self.pub.publish(people)


class Rig:
    def __init__(self, ros, floor, speed=6.0, **params):
        defaults = dict(follow_distance=2.0, resume_distance=1.5, pause_after_s=0.3, prompt_interval_s=0.5,
                        give_up_s=1.5, max_retries=1, retry_delay_s=0.1, dwell_s=0.3, nav_server_wait_s=10.0)
        defaults.update(params)
        overrides = [Parameter('waypoints_file', value=str(floor))]
        overrides += [Parameter(k, value=v) for k, v in defaults.items()]
        self.ros = ros
        self.nav = ros.add(FakeNavigateToPose(speed=speed, context=ros.context))
        self.visitor = Visitor(ros, self.nav)
        self.escort = ros.add(EscortNode(context=ros.context, parameter_overrides=overrides))
        self.probe = ros.node('escort_probe')
        self.said, self.status, self.health, self.feedback = [], [], [], []
        self.probe.create_subscription(SayRequest, '/speech/say', self.said.append, 10)
        self.probe.create_subscription(RobotStatus, '/robot/status', self.status.append, 10)
        self.probe.create_subscription(ComponentHealth, '/l2b2/health', self.health.append, 10)
        self.safety = self.probe.create_publisher(SafetyState, '/safety/state', LATCHED)
        self.office = self.probe.create_publisher(OfficeStatus, '/office/status', LATCHED)
        self.client = ActionClient(self.probe, Escort, '/escort')
        ros.wait_for(lambda: self.client.wait_for_server(timeout_sec=0.1), 20, '/escort server')
        ros.wait_for(lambda: self.escort.nav.server_is_ready(), 20, '/navigate_to_pose server')

    def send(self, target, with_visitor=True, language='de', visitor=0):
        goal = Escort.Goal(target_id=target, language=language, with_visitor=with_visitor, visitor_track_id=visitor)
        handle = self.ros.wait_future(self.client.send_goal_async(goal, feedback_callback=lambda m: self.feedback.append(
            m.feedback)), 10, 'goal response')
        assert handle.accepted
        return handle

    def result(self, handle, timeout=20.0):
        return self.ros.wait_future(handle.get_result_async(), timeout, 'escort result')


def test_unknown_target_is_refused_with_a_clear_outcome(ros, floor):
    rig = Rig(ros, floor)
    res = rig.result(rig.send('schwimmbad'))
    assert res.status == GoalStatus.STATUS_ABORTED
    assert res.result.outcome == Escort.Result.UNKNOWN_TARGET and 'schwimmbad' in res.result.message
    assert rig.nav.goals == []


def test_escort_with_following_visitor_arrives_announces_and_returns_home(ros, floor):
    rig = Rig(ros, floor)
    res = rig.result(rig.send('meldestelle', language='tr'))
    assert res.status == GoalStatus.STATUS_SUCCEEDED and res.result.outcome == Escort.Result.ARRIVED
    assert abs(res.result.path_length_m - 8.0) < 1.5  # sampled at 10 Hz from a robot driving 6 m/s
    assert any(f.visitor_status == Escort.Feedback.VISITOR_FOLLOWING and f.phase == 'navigating'
               for f in rig.feedback)
    ros.wait_for(lambda: any(s.language == 'tr' and s.text.startswith('Geldik') for s in rig.said), 10, 'arrival')
    ros.wait_for(lambda: any(s.mode == 'returning' for s in rig.status), 10, 'returning mode')
    ros.wait_for(lambda: rig.nav.goals[-1] == (0.0, 0.0) and rig.nav.x == 0.0, 10, 'back home')
    ros.wait_for(lambda: rig.status and rig.status[-1].mode == 'idle', 10, 'idle again')
    assert not any('follow' in s.text.lower() or 'folgen' in s.text for s in rig.said)


def test_visitor_falls_behind_robot_waits_asks_and_resumes(ros, floor):
    rig = Rig(ros, floor, speed=2.0)
    handle = rig.send('meldestelle', visitor=7)
    ros.wait_for(lambda: rig.nav.x > 0.5, 10, 'robot moving')
    rig.visitor.mode = 'stay'
    ros.wait_for(lambda: any(f.phase == 'waiting_for_visitor' for f in rig.feedback), 10, 'pause')
    ros.wait_for(lambda: any(s.text == 'Bitte folgen Sie mir.' for s in rig.said), 10, 'follow request')
    assert rig.nav.cancels >= 1
    rig.visitor.mode = 'follow'
    res = rig.result(handle)
    assert res.result.outcome == Escort.Result.ARRIVED
    assert len(rig.nav.goals) >= 2  # resumed with a fresh goal


def test_visitor_who_leaves_is_given_up_staff_told_robot_goes_home(ros, floor):
    rig = Rig(ros, floor, speed=2.0)
    handle = rig.send('meldestelle')
    ros.wait_for(lambda: rig.nav.x > 0.5, 10, 'robot moving')
    rig.visitor.mode = 'gone'
    res = rig.result(handle)
    assert res.status == GoalStatus.STATUS_ABORTED and res.result.outcome == Escort.Result.VISITOR_LOST
    ros.wait_for(lambda: any(h.component == 'escort' and h.level == ComponentHealth.DEGRADED
                             and 'visitor lost' in h.message for h in rig.health), 10, 'staff told')
    ros.wait_for(lambda: rig.nav.goals[-1] == (0.0, 0.0), 10, 'going home')


def test_blocked_target_is_retried_then_navigation_failed(ros, floor):
    rig = Rig(ros, floor)
    rig.nav.blocked.add(FAR)
    res = rig.result(rig.send('meldestelle', with_visitor=False))
    assert res.result.outcome == Escort.Result.NAVIGATION_FAILED and 'no valid path' in res.result.message
    assert rig.nav.goals == [FAR, FAR]  # one retry


def test_estop_mid_escort_cancels_at_once_and_refuses_new_goals(ros, floor):
    rig = Rig(ros, floor, speed=1.0)
    handle = rig.send('meldestelle')
    ros.wait_for(lambda: rig.nav.x > 0.3, 10, 'robot moving')
    rig.safety.publish(SafetyState(estop_active=True, estop_source='scenario'))
    res = rig.result(handle)
    assert res.result.outcome == Escort.Result.ESTOPPED
    ros.wait_for(lambda: rig.nav.cancels >= 1, 10, 'navigation cancelled')
    ros.wait_for(lambda: rig.status and rig.status[-1].mode == 'estop' and rig.status[-1].estop_active, 10, 'status')
    again = rig.result(rig.send('meldestelle'))
    assert again.result.outcome == Escort.Result.ESTOPPED


def test_cancel_and_busy(ros, floor):
    rig = Rig(ros, floor, speed=1.0)
    handle = rig.send('meldestelle')
    ros.wait_for(lambda: rig.nav.x > 0.3, 10, 'robot moving')
    busy = rig.result(rig.send('wc'))
    assert busy.result.outcome == Escort.Result.BUSY
    ros.wait_future(handle.cancel_goal_async(), 10, 'cancel response')
    res = rig.result(handle)
    assert res.status == GoalStatus.STATUS_CANCELED and res.result.outcome == Escort.Result.CANCELED
    ros.wait_for(lambda: rig.nav.cancels >= 1, 10, 'navigation cancelled')


def test_ctrl_c_mid_escort_still_ends_the_session_so_the_process_can_exit(ros, floor):
    """Ctrl-C shuts the ROS context down before the node's close(): the blocked execute thread must end anyway."""
    rig = Rig(ros, floor, speed=0.5)
    rig.send('meldestelle')
    ros.wait_for(lambda: rig.escort.trips.trip is not None and rig.nav.goals, 10, 'escort under way')
    trip = rig.escort.trips.trip
    ride = rig.escort.rides[trip]
    rclpy.shutdown(context=ros.context)  # what the SIGINT handler does first
    rig.escort.close()
    assert ride.ended.is_set()
    assert trip.policy.outcome is EscortOutcome.NAVIGATION_FAILED


def test_staff_pause_holds_the_escort_past_every_timeout_and_continue_arrives(ros, floor):
    from std_srvs.srv import SetBool

    rig = Rig(ros, floor, speed=1.0)
    pause = rig.probe.create_client(SetBool, '/escort/pause')
    ros.wait_for(lambda: pause.wait_for_service(timeout_sec=0.1), 20, '/escort/pause')
    nothing = ros.wait_future(pause.call_async(SetBool.Request(data=True)), 10, 'pause with nothing to pause')
    assert not nothing.success and 'no escort' in nothing.message
    handle = rig.send('meldestelle')
    ros.wait_for(lambda: rig.nav.x > 0.3, 10, 'robot moving')
    res = ros.wait_future(pause.call_async(SetBool.Request(data=True)), 10, 'pause')
    assert res.success, res.message
    ros.wait_for(lambda: rig.nav.cancels >= 1, 10, 'navigation cancelled')
    ros.wait_for(lambda: rig.status and rig.status[-1].mode == 'paused', 10, 'paused status')
    # The cancel is counted when requested; the fake may take one more step before its goal ends.
    ros.wait_for(lambda: rig.nav.running == 0, 10, 'the cancelled navigation goal ended')
    held_at = rig.nav.x
    rig.visitor.mode = 'gone'  # gone the whole pause: with give_up_s 1.5 this would end the escort
    first = len(rig.feedback)
    ros.wait_for(lambda: len(rig.feedback) >= first + 30, 30, '3 s of feedback while paused')  # 10 Hz
    assert all(f.phase == 'paused' for f in rig.feedback[first + 1:])
    assert rig.nav.x == held_at and not any('folgen' in s.text for s in rig.said)
    rig.visitor.mode = 'follow'
    res = ros.wait_future(pause.call_async(SetBool.Request(data=False)), 10, 'continue')
    assert res.success, res.message
    done = rig.result(handle)
    assert done.result.outcome == Escort.Result.ARRIVED
    assert rig.nav.goals[:2] == [FAR, FAR]  # a fresh goal after the pause


def test_office_not_accepting_refuses_new_visitor_escorts_but_finishes_the_running_one(ros, floor):
    rig = Rig(ros, floor, speed=4.0)
    wc = next((2.0, 0.1 * i) for i, t in enumerate(load_catalog().targets.values()) if t.id == 'wc')
    assert rig.escort.office is None  # no office node: goals are taken as ever
    handle = rig.send('meldestelle')
    ros.wait_for(lambda: rig.nav.x > 0.3, 10, 'robot moving')

    rig.office.publish(OfficeStatus(phase='open', accepting_escorts=False, reason='battery_low'))
    ros.wait_for(lambda: rig.escort.office is not None and not rig.escort.office.accepting_escorts, 10,
                 'the escort sees the office status')
    res = rig.result(handle)
    assert res.status == GoalStatus.STATUS_SUCCEEDED and res.result.outcome == Escort.Result.ARRIVED

    refused = rig.result(rig.send('wc', language='en'))
    assert refused.status == GoalStatus.STATUS_ABORTED
    assert refused.result.outcome == EscortOutcome.NOT_ACCEPTING
    assert refused.result.message == 'not accepting new escorts: battery_low'
    assert wc not in rig.nav.goals

    # Staff "send to" from the panel (no visitor) is a deliberate act: it still runs.
    staff = rig.result(rig.send('wc', with_visitor=False))
    # wc, not the last goal: the trip home may already have started when the result is read.
    assert staff.result.outcome == Escort.Result.ARRIVED and wc in rig.nav.goals

    rig.office.publish(OfficeStatus(phase='open', accepting_escorts=True))
    ros.wait_for(lambda: rig.escort.office.accepting_escorts, 10, 'the office accepting again')
    again = rig.result(rig.send('meldestelle'))
    assert again.status == GoalStatus.STATUS_SUCCEEDED and again.result.outcome == Escort.Result.ARRIVED

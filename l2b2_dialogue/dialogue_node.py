"""The dialogue node: a thin ROS shell around :class:`l2b2_dialogue.engine.DialogueEngine`.

It turns topics and services into engine events, and the engine's effects into SayRequests,
Escort goals and queue-service calls. Every outside request goes through
:class:`l2b2_common.calls.BoundedCaller` (a bounded wait on the node clock): a missing or slow queue
bridge or escort server becomes an "unavailable" answer for the engine, which tells the visitor and
offers the info desk. Nothing ever blocks the executor.

The office day (issue 16): the calendar of config/office.yaml (public holidays, closing notices) goes to the
engine, and the latched /office/status tells it whether new escorts are taken (no status at all, i.e. no
office node: escorts are offered as always).

Idle costs nothing: the state is published when it changes, and the clock tick runs only while the
conversation has a deadline (a state's time-out); the bounded calls poll only while one is pending.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import threading
from typing import Any
import uuid
from zoneinfo import ZoneInfo

from action_msgs.msg import GoalStatus
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import (
    DialogueState,
    OfficeStatus,
    RecognizedSpeech,
    SafetyState,
    SayRequest,
    VisitorEvent,
    VisitorInput,
)
from l2b2_interfaces.srv import CheckIn, DrawTicket, LookupAppointment, SetLanguage
from rclpy.action import ActionClient
from std_srvs.srv import SetBool, Trigger

from l2b2_common.calls import BoundedCaller, CallOutcome, PendingCall
from l2b2_common.catalog import load_catalog
from l2b2_common.codes import EscortOutcome, QueueResult
from l2b2_common.config import config_path
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.privacy import redact
from l2b2_common.qos import LATCHED, RELIABLE
from l2b2_common.tunables import ParameterError, declare_tunables, tunable
from l2b2_dialogue import effects as fx
from l2b2_dialogue.engine import DialogueEngine
from l2b2_dialogue.nlu import Understander
from l2b2_dialogue.responses import load_responses
from l2b2_dialogue.settings import Settings
from l2b2_office.day_cycle import OfficeCalendar
from l2b2_office.office_config import load_office_config


@dataclass(frozen=True)
class DialogueNodeParams:
    """The node's own parameters (the conversation's are :class:`~l2b2_dialogue.settings.Settings`)."""

    catalog_file: str = tunable('departments.yaml', 'Department catalog under config/ (or an absolute path).')
    server_wait_s: float = tunable(
        2.0, 'How long to wait for a queue/escort server to appear before giving up.', min=0.0, max=60.0)
    service_timeout_s: float = tunable(
        5.0, 'How long a queue service or escort goal may take to answer.', min=0.1, max=120.0)
    tick_period_s: float = tunable(
        0.1, 'Period of the time-out tick (it runs only while the conversation has a deadline).', min=0.01, max=2.0)
    checkin_auth_key: str = tunable(
        '', 'authKey sent with look-ups/check-ins; empty: the surname the visitor gives confirms the booking.')
    timezone: str = tunable('Europe/Berlin', 'Time zone of the office, for opening hours.')
    office_file: str = tunable(
        'office.yaml', 'Office day file under config/ (or an absolute path): public holidays and closing notices.')


#: Health message while a visitor waits for staff (shown on the staff panel; no visitor data).
STAFF_CALL = 'a visitor at the robot asks for staff'


class DialogueNode(LeanNode):
    """Subscribes to what the visitor says and touches; speaks, escorts, checks in and draws tickets."""

    def __init__(self, **kwargs):
        super().__init__('dialogue', **kwargs)
        self.p = declare_tunables(self, DialogueNodeParams)
        settings = declare_tunables(self, Settings)
        catalog = load_catalog(config_path(self.p.catalog_file))
        for key in ('waiting_area', 'info_desk'):
            if getattr(settings, key) not in catalog:
                raise ParameterError(self.get_name(), key, f'"{getattr(settings, key)}" is not a target of the catalog')
        self._tz = ZoneInfo(self.p.timezone)
        # The learned layer loads from its cache; on a machine that never trained it, the node starts with the
        # rules alone and the model joins once trained in the background (see l2b2_dialogue/learned.py).
        nlu = Understander(catalog, threshold=settings.confidence_threshold,
                           default_language=settings.default_language, learned='background')
        office = load_office_config(self.p.office_file)
        calendar = OfficeCalendar.from_catalog(catalog, office.holidays, office.tz)
        self.engine = DialogueEngine(catalog, nlu, load_responses(), settings, wall_clock=self._wall_clock,
                                     calendar=calendar, day_cycle=office.day_cycle)
        self._lock = threading.RLock()
        self._published_version = -1
        #: Requests under way, by kind (lookup, checkin, ticket, escort); the engine has at most one of each.
        self._calls: dict[str, PendingCall] = {}
        self._goal_handle = None
        self._result_watch: PendingCall | None = None
        #: Track id of the person the robot is talking to (from the tracker's APPROACHED event): the
        #: escort watches this person, not a closer bystander; 0 lets the escort pick.
        self._visitor_track_id = 0

        self._say_pub = self.create_publisher(SayRequest, '/speech/say', RELIABLE)
        self._state_pub = self.create_publisher(DialogueState, '/dialogue/state', LATCHED)
        self.create_subscription(RecognizedSpeech, '/speech/recognized', self._on_speech, RELIABLE)
        self.create_subscription(VisitorInput, '/visitor/input', self._on_input, RELIABLE)
        self.create_subscription(VisitorEvent, '/people/events', self._on_people, RELIABLE)
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED)
        self.create_subscription(OfficeStatus, '/office/status', self._on_office_status, LATCHED)
        self.create_service(Trigger, '/dialogue/reset', self._srv_reset)
        self.create_service(SetBool, '/dialogue/takeover', self._srv_takeover)
        self.create_service(SetLanguage, '/dialogue/set_language', self._srv_language)
        self._lookup = self.create_client(LookupAppointment, '/queue/lookup_appointment')
        self._checkin = self.create_client(CheckIn, '/queue/check_in')
        self._ticket = self.create_client(DrawTicket, '/queue/draw_ticket')
        self._escort = ActionClient(self, Escort, '/escort')
        self._caller = BoundedCaller(self)
        self.health = HealthReporter(self, 'dialogue')
        self.health.set(OK, 'ready')
        #: A staff alert (fx.TellStaff) standing on /l2b2/health: its message and until when (node clock).
        self._staff_alert: tuple[str, float] | None = None
        self._tick_timer = self.create_timer(self.p.tick_period_s, self._on_tick)
        self._tick_timer.cancel()  # runs only while the conversation has a deadline (see _flush)
        self._flush()
        self.get_logger().info(f'dialogue ready: {len(catalog.targets)} targets, languages de/tr')

    # -- helpers -----------------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds / 1e9

    def _wall_clock(self) -> datetime:
        """Local time for opening hours: the node clock when it is a real date (sim time starts near 0)."""
        seconds = self._now()
        if seconds > 1e9:
            return datetime.fromtimestamp(seconds, self._tz)
        return datetime.now(self._tz)

    def _event(self, fn, *args) -> None:
        with self._lock:
            fn(*args)
            self._flush()

    def _flush(self) -> None:
        """Carry out the engine's effects, publish the state if it changed, run the tick only if needed."""
        for effect in self.engine.drain():
            self._execute(effect)
        if self.engine.version != self._published_version:
            self._published_version = self.engine.version
            self._publish_state()
            self._call_staff_if_asked()
        if self.engine.deadline is None:
            self._tick_timer.cancel()
        elif self._tick_timer.is_canceled():
            self._tick_timer.reset()

    def _call_staff_if_asked(self) -> None:
        """The robot told the visitor "I'll let a member of staff know": the panel lists it to staff."""
        asking = self.engine.state == 'staff_handoff'
        if asking and self.health.level == OK:
            self.health.set(DEGRADED, STAFF_CALL)
        elif not asking and self.health.message == STAFF_CALL:
            self._health_ready()

    def _health_ready(self) -> None:
        """Back to OK after a problem passed, unless a staff alert still stands (it then shows again)."""
        if self._staff_alert is not None and self._now() < self._staff_alert[1]:
            self.health.set(DEGRADED, self._staff_alert[0])
            return
        self._staff_alert = None
        self.health.set(OK, 'ready')

    def _execute(self, effect: Any) -> None:
        if isinstance(effect, fx.Say):
            msg = SayRequest(utterance_id=f'dialogue-{uuid.uuid4().hex[:10]}', text=effect.text,
                             language=effect.language, priority=SayRequest.PRIORITY_NORMAL, interruptible=True,
                             conversation_id=effect.conversation)
            msg.header.stamp = self.get_clock().now().to_msg()
            self._say_pub.publish(msg)
        elif isinstance(effect, fx.StartEscort):
            goal = Escort.Goal(target_id=effect.target_id, language=effect.language, with_visitor=True,
                               visitor_track_id=self._visitor_track_id)
            self._call('escort', self._escort, goal)
            self.get_logger().info(f'escort to {effect.target_id} requested')
        elif isinstance(effect, fx.CancelEscort):
            call = self._calls.pop('escort', None)
            if call is not None:
                call.cancel()
            self._drop_goal(cancel=True)
        elif isinstance(effect, fx.LookupAppointment):
            req = LookupAppointment.Request(booking_number=effect.booking_number, auth_key=self.p.checkin_auth_key,
                                            name=effect.name)
            self._call('lookup', self._lookup, req)
            self.get_logger().info(f'looking up {redact(effect.booking_number, "booking")}')
        elif isinstance(effect, fx.CheckIn):
            req = CheckIn.Request(booking_number=effect.booking_number, auth_key=self.p.checkin_auth_key)
            self._call('checkin', self._checkin, req)
        elif isinstance(effect, fx.DrawTicket):
            req = DrawTicket.Request(target_id=effect.target_id, idempotency_key=effect.idempotency_key)
            self._call('ticket', self._ticket, req)
        elif isinstance(effect, fx.TellStaff):
            # Staff see this on the panel (health); no visitor data in it (as the escort's TellStaff).
            self.get_logger().warning(f'staff attention: {effect.message}')
            self._staff_alert = (effect.message, self._now() + effect.hold_s)
            self.health.set(DEGRADED, effect.message)

    def _publish_state(self) -> None:
        s = self.engine.snapshot()
        msg = DialogueState(state=s.state, session_id=s.session_id, language=s.language, intent=s.intent,
                            target_id=s.target_id, confidence=float(s.confidence), candidates=s.candidates,
                            last_user_text=s.last_user_text, last_robot_text=s.last_robot_text, choices=s.choices,
                            staff_takeover=s.staff_takeover, display_number=s.display_number,
                            estimated_wait_minutes=int(s.estimated_wait_minutes))
        msg.header.stamp = self.get_clock().now().to_msg()
        self._state_pub.publish(msg)

    # -- outside requests: bounded, asynchronous (l2b2_common.calls) ------------------------------------------------
    def _call(self, kind: str, client, request) -> None:
        def done(outcome: CallOutcome, kind=kind) -> None:
            with self._lock:
                if self._calls.get(kind) is not call:
                    return  # replaced or cancelled meanwhile: the engine has moved on
                del self._calls[kind]
                self._answer(kind, outcome)
                self._flush()

        # Called under self._lock (from _flush), which done() takes too: it cannot run before this is stored.
        call = self._caller.call(client, request, done, server_wait_s=self.p.server_wait_s,
                                 answer_timeout_s=self.p.service_timeout_s)
        self._calls[kind] = call

    def _answer(self, kind: str, outcome: CallOutcome) -> None:
        now = self._now()
        if not outcome.ok:
            name = 'escort' if kind == 'escort' else 'queue bridge'
            self.health.set(DEGRADED, f'{name} unavailable ({outcome.reason})')
            self.get_logger().warning(f'{kind} request failed: {name} {outcome.reason}')
            if kind == 'escort':
                self.engine.escort_unavailable(now)
            else:
                {'lookup': self.engine.lookup_done, 'checkin': self.engine.checkin_done,
                 'ticket': self.engine.ticket_done}[kind](QueueResult.UNAVAILABLE, now)
            return
        if self.health.level != OK:
            self._health_ready()
        answer = outcome.value
        if kind == 'lookup':
            self.engine.lookup_done(answer.result, now, answer.appointment.target_id)
        elif kind == 'checkin':
            self.engine.checkin_done(answer.result, now, answer.appointment.display_number,
                                     answer.estimated_wait_minutes, answer.appointment.appointment_time)
        elif kind == 'ticket':
            self.engine.ticket_done(answer.result, now, answer.display_number, answer.waiting_count,
                                    answer.estimated_wait_minutes)
        else:
            self._on_goal_response(answer)

    def _on_goal_response(self, goal_handle) -> None:
        if goal_handle is None or not goal_handle.accepted:
            self.get_logger().warning('escort goal rejected')
            self.engine.escort_unavailable(self._now())
            return
        if self.engine.state != 'escorting':
            goal_handle.cancel_goal_async()  # the visitor changed their mind while the goal was on its way
            return
        self._goal_handle = goal_handle
        # An escort server that dies mid-goal never sends its result: the watch ends when it is gone.
        self._result_watch = self._caller.watch_result(
            goal_handle, lambda outcome, gh=goal_handle: self._on_escort_result(gh, outcome),
            server_gone_s=self.p.server_wait_s, client=self._escort)

    def _drop_goal(self, cancel: bool) -> None:
        if self._result_watch is not None:
            self._result_watch.cancel()
            self._result_watch = None
        if self._goal_handle is not None:
            if cancel:
                self._goal_handle.cancel_goal_async()
            self._goal_handle = None

    def _on_escort_result(self, goal_handle, outcome: CallOutcome) -> None:
        with self._lock:
            if goal_handle is not self._goal_handle:
                return
            self._result_watch = None
            self._drop_goal(cancel=False)
            now = self._now()
            if not outcome.ok:
                self.health.set(DEGRADED, 'escort unavailable (its server went away during an escort)')
                self.get_logger().warning(f'escort server went away during an escort ({outcome.reason}); '
                                          'telling the visitor')
                self.engine.escort_done(EscortOutcome.NAVIGATION_FAILED, now)
            else:
                wrapped = outcome.value
                result = wrapped.result.outcome
                if wrapped.status == GoalStatus.STATUS_CANCELED and result == EscortOutcome.ARRIVED:
                    result = EscortOutcome.CANCELED
                self.get_logger().info(f'escort finished: outcome {int(result)} ({wrapped.result.message})')
                self.engine.escort_done(result, now)
            self._flush()

    # -- subscriptions and services ----------------------------------------------------------------------------------
    def _on_tick(self) -> None:
        with self._lock:
            self.engine.tick(self._now())
            self._flush()

    def _on_speech(self, msg: RecognizedSpeech) -> None:
        self._event(self.engine.hear, msg.text, msg.language, self._now(), msg.source, float(msg.confidence))

    def _on_input(self, msg: VisitorInput) -> None:
        self._event(self.engine.touch, msg.action, msg.value, msg.language, self._now())

    def _on_people(self, msg: VisitorEvent) -> None:
        if msg.event == VisitorEvent.APPROACHED:
            if self.engine.state == 'idle' or not self._visitor_track_id:
                self._visitor_track_id = msg.person_id
            self._event(self.engine.approach, self._now())
        elif msg.event == VisitorEvent.LEFT:
            if self._visitor_track_id and msg.person_id != self._visitor_track_id:
                return  # a bystander walked away, not our visitor
            self._visitor_track_id = 0
            self._event(self.engine.leave, self._now())

    def _on_safety(self, msg: SafetyState) -> None:
        self._event(self.engine.set_estop, bool(msg.estop_active), self._now())

    def _on_office_status(self, msg: OfficeStatus) -> None:
        self._event(self.engine.office_status, bool(msg.accepting_escorts), msg.reason, self._now())

    def _srv_reset(self, request, response):
        self._event(self.engine.do_reset, self._now())
        response.success, response.message = True, 'dialogue reset to idle'
        return response

    def _srv_takeover(self, request, response):
        self._event(self.engine.set_takeover, bool(request.data), self._now())
        response.success = True
        response.message = 'staff takeover on' if request.data else 'robot answers again'
        return response

    def _srv_language(self, request, response):
        with self._lock:
            response.success = self.engine.set_language(request.language, self._now())
            self._flush()
        response.message = 'ok' if response.success else f'unsupported language "{request.language}" (de, tr)'
        return response


def main(args=None):
    return run_node(DialogueNode, args)


if __name__ == '__main__':
    main()

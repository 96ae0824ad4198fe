"""The dialogue node: a thin ROS shell around :class:`l2b2_dialogue.engine.DialogueEngine`.

It turns topics and services into engine events, and the engine's effects into SayRequests,
Escort goals and queue-service calls. Every outside request is asynchronous with a bounded wait
(on the node clock): a missing or slow queue bridge or escort server becomes an "unavailable"
answer for the engine, which tells the visitor and offers the info desk. Nothing ever blocks
the executor.
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
    RecognizedSpeech,
    SafetyState,
    SayRequest,
    SpeechStatus,
    VisitorEvent,
    VisitorInput,
)
from l2b2_interfaces.srv import CheckIn, DrawTicket, GetQueueStatus, LookupAppointment, SetLanguage
from rclpy.action import ActionClient
from rclpy.node import Node
from std_srvs.srv import SetBool, Trigger

from l2b2_common.catalog import load_catalog
from l2b2_common.config import config_path
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.node_main import run_node
from l2b2_common.params import Param, ParameterError, declare_params
from l2b2_common.privacy import redact
from l2b2_common.qos import LATCHED, RELIABLE, STATUS
from l2b2_dialogue import engine as eng
from l2b2_dialogue.nlu import Understander
from l2b2_dialogue.responses import load_responses

PARAMS = [
    Param('catalog_file', 'departments.yaml', 'Department catalog under config/ (or an absolute path).'),
    Param('default_language', 'de', 'Language of a new conversation until the visitor speaks.', choices=('de', 'tr')),
    Param('confidence_threshold', 0.6, 'Below this NLU confidence the robot asks a clarifying question.',
          min=0.0, max=1.0),
    Param('max_reprompts', 2, 'Re-prompts after silence before the robot says goodbye.', min=0, max=10),
    Param('greeting_timeout_s', 6.0, 'Greeting state lasts this long without an answer.', min=0.5, max=120.0),
    Param('answer_timeout_s', 12.0, 'Silence before a re-prompt while waiting for an answer.', min=1.0, max=300.0),
    Param('arrived_timeout_s', 4.0, 'Time in "arrived" before saying goodbye.', min=0.1, max=60.0),
    Param('farewell_timeout_s', 4.0, 'Time in "farewell" before returning/idle.', min=0.1, max=60.0),
    Param('returning_timeout_s', 8.0, 'Time in "returning" before idle (the escort drives home).', min=0.1,
          max=600.0),
    Param('staff_handoff_timeout_s', 90.0, 'Time in "staff_handoff" before idle.', min=1.0, max=3600.0),
    Param('server_wait_s', 2.0, 'How long to wait for a queue/escort server to appear before giving up.',
          min=0.0, max=60.0),
    Param('service_timeout_s', 5.0, 'How long a queue service or escort goal may take to answer.', min=0.1,
          max=120.0),
    Param('tick_period_s', 0.1, 'Period of the time-out and request-watchdog timer.', min=0.01, max=2.0),
    Param('checkin_auth_key', '',
          'authKey sent with look-ups/check-ins; empty: the surname the visitor gives confirms the booking.'),
    Param('checkin_ask_name', True, 'Ask for the surname after the booking number (the queue bridge checks it).'),
    Param('timezone', 'Europe/Berlin', 'Time zone of the office, for opening hours.'),
    Param('waiting_area', 'wartebereich', 'Target offered after a check-in or ticket.'),
    Param('info_desk', 'info', 'Target offered when the robot cannot help.'),
]


@dataclass
class _Request:
    """One outside request under way: sent when its server is ready, failed when it takes too long."""

    kind: str  # lookup | checkin | ticket | escort
    client: Any
    request: Any
    started: float
    future: Any = None
    sent_at: float = 0.0


#: Health message while a visitor waits for staff (shown on the staff panel; no visitor data).
STAFF_CALL = 'a visitor at the robot asks for staff'


class DialogueNode(Node):
    """Subscribes to what the visitor says and touches; speaks, escorts, checks in and draws tickets."""

    def __init__(self, **kwargs):
        super().__init__('dialogue', **kwargs)
        self.p = declare_params(self, PARAMS)
        catalog = load_catalog(config_path(self.p.catalog_file))
        for key in ('waiting_area', 'info_desk'):
            if getattr(self.p, key) not in catalog:
                raise ParameterError(self.get_name(), key, f'"{getattr(self.p, key)}" is not a target of the catalog')
        self._tz = ZoneInfo(self.p.timezone)
        settings = eng.Settings(
            confidence_threshold=self.p.confidence_threshold, max_reprompts=self.p.max_reprompts,
            greeting_timeout_s=self.p.greeting_timeout_s, answer_timeout_s=self.p.answer_timeout_s,
            arrived_timeout_s=self.p.arrived_timeout_s, farewell_timeout_s=self.p.farewell_timeout_s,
            returning_timeout_s=self.p.returning_timeout_s, staff_handoff_timeout_s=self.p.staff_handoff_timeout_s,
            default_language=self.p.default_language, waiting_area=self.p.waiting_area, info_desk=self.p.info_desk,
            checkin_ask_name=self.p.checkin_ask_name)
        nlu = Understander(catalog, threshold=self.p.confidence_threshold, default_language=self.p.default_language)
        self.engine = eng.DialogueEngine(catalog, nlu, load_responses(), settings, wall_clock=self._wall_clock)
        self._lock = threading.RLock()
        self._published_version = -1
        self._requests: list[_Request] = []
        self._goal_handle = None
        self._escort_gone_since: float | None = None
        #: Track id of the person the robot is talking to (from the tracker's APPROACHED event): the
        #: escort watches this person, not a closer bystander; 0 lets the escort pick.
        self._visitor_track_id = 0

        self._say_pub = self.create_publisher(SayRequest, '/speech/say', RELIABLE)
        self._state_pub = self.create_publisher(DialogueState, '/dialogue/state', LATCHED)
        self.create_subscription(RecognizedSpeech, '/speech/recognized', self._on_speech, RELIABLE)
        self.create_subscription(VisitorInput, '/visitor/input', self._on_input, RELIABLE)
        self.create_subscription(VisitorEvent, '/people/events', self._on_people, RELIABLE)
        self.create_subscription(SpeechStatus, '/speech/status', self._on_speech_status, STATUS)
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED)
        self.create_service(Trigger, '/dialogue/reset', self._srv_reset)
        self.create_service(SetBool, '/dialogue/takeover', self._srv_takeover)
        self.create_service(SetLanguage, '/dialogue/set_language', self._srv_language)
        self._lookup = self.create_client(LookupAppointment, '/queue/lookup_appointment')
        self._checkin = self.create_client(CheckIn, '/queue/check_in')
        self._ticket = self.create_client(DrawTicket, '/queue/draw_ticket')
        self._status = self.create_client(GetQueueStatus, '/queue/get_status')
        self._escort = ActionClient(self, Escort, '/escort')
        self.health = HealthReporter(self, 'dialogue')
        self.health.set(OK, 'ready')
        self.create_timer(self.p.tick_period_s, self._on_tick)
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
        """Carry out the engine's effects and publish the state if it changed."""
        for effect in self.engine.drain():
            self._execute(effect)
        if self.engine.version != self._published_version:
            self._published_version = self.engine.version
            self._publish_state()
            self._call_staff_if_asked()

    def _call_staff_if_asked(self) -> None:
        """The robot told the visitor "I'll let a member of staff know": the panel lists it to staff."""
        asking = self.engine.state == 'staff_handoff'
        if asking and self.health.level == OK:
            self.health.set(DEGRADED, STAFF_CALL)
        elif not asking and self.health.message == STAFF_CALL:
            self.health.set(OK, 'ready')

    def _execute(self, effect: Any) -> None:
        now = self._now()
        if isinstance(effect, eng.Say):
            msg = SayRequest(utterance_id=f'dialogue-{uuid.uuid4().hex[:10]}', text=effect.text,
                             language=effect.language, priority=SayRequest.PRIORITY_NORMAL, interruptible=True)
            msg.header.stamp = self.get_clock().now().to_msg()
            self._say_pub.publish(msg)
        elif isinstance(effect, eng.StartEscort):
            goal = Escort.Goal(target_id=effect.target_id, language=effect.language, with_visitor=True,
                               visitor_track_id=self._visitor_track_id)
            self._requests.append(_Request('escort', self._escort, goal, now))
            self.get_logger().info(f'escort to {effect.target_id} requested')
        elif isinstance(effect, eng.CancelEscort):
            self._requests = [r for r in self._requests if r.kind != 'escort']
            if self._goal_handle is not None:
                self._goal_handle.cancel_goal_async()
                self._goal_handle = None
        elif isinstance(effect, eng.LookupAppointment):
            req = LookupAppointment.Request(booking_number=effect.booking_number, auth_key=self.p.checkin_auth_key,
                                            name=effect.name)
            self._requests.append(_Request('lookup', self._lookup, req, now))
            self.get_logger().info(f'looking up {redact(effect.booking_number, "booking")}')
        elif isinstance(effect, eng.CheckIn):
            req = CheckIn.Request(booking_number=effect.booking_number, auth_key=self.p.checkin_auth_key)
            self._requests.append(_Request('checkin', self._checkin, req, now))
        elif isinstance(effect, eng.DrawTicket):
            req = DrawTicket.Request(target_id=effect.target_id, idempotency_key=effect.idempotency_key)
            self._requests.append(_Request('ticket', self._ticket, req, now))
        self._pump_requests(now)

    def _publish_state(self) -> None:
        s = self.engine.snapshot()
        msg = DialogueState(state=s.state, session_id=s.session_id, language=s.language, intent=s.intent,
                            target_id=s.target_id, confidence=float(s.confidence), candidates=s.candidates,
                            last_user_text=s.last_user_text, last_robot_text=s.last_robot_text, choices=s.choices,
                            staff_takeover=s.staff_takeover, display_number=s.display_number,
                            estimated_wait_minutes=int(s.estimated_wait_minutes))
        msg.header.stamp = self.get_clock().now().to_msg()
        self._state_pub.publish(msg)

    # -- outside requests: bounded, asynchronous -------------------------------------------------------------------
    def _pump_requests(self, now: float) -> None:
        for r in list(self._requests):
            if r.future is None:
                ready = r.client.server_is_ready() if r.kind == 'escort' else r.client.service_is_ready()
                if ready:
                    r.sent_at = now
                    r.future = (r.client.send_goal_async(r.request) if r.kind == 'escort'
                                else r.client.call_async(r.request))
                    r.future.add_done_callback(lambda fut, r=r: self._on_answer(r, fut))
                elif now - r.started >= self.p.server_wait_s:
                    self._fail(r, 'no server')
            elif not r.future.done() and now - r.sent_at >= self.p.service_timeout_s:
                self._fail(r, 'no answer in time')

    def _fail(self, r: _Request, why: str) -> None:
        if r in self._requests:
            self._requests.remove(r)
        name = 'escort' if r.kind == 'escort' else 'queue bridge'
        self.health.set(DEGRADED, f'{name} unavailable ({why})')
        self.get_logger().warning(f'{r.kind} request failed: {name} {why}')
        now = self._now()
        if r.kind == 'escort':
            self.engine.escort_unavailable(now)
        elif r.kind == 'lookup':
            self.engine.lookup_done(eng.UNAVAILABLE, now)
        elif r.kind == 'checkin':
            self.engine.checkin_done(eng.UNAVAILABLE, now)
        elif r.kind == 'ticket':
            self.engine.ticket_done(eng.UNAVAILABLE, now)

    def _on_answer(self, r: _Request, future) -> None:
        with self._lock:
            if r not in self._requests:
                return  # timed out or cancelled meanwhile: the engine has moved on
            self._requests.remove(r)
            now = self._now()
            try:
                answer = future.result()
            except Exception as exc:  # noqa: BLE001 - any transport failure means: unavailable
                self._requests.append(r)
                self._fail(r, f'error {type(exc).__name__}')
                self._flush()
                return
            if self.health.level != OK:
                self.health.set(OK, 'ready')
            if r.kind == 'lookup':
                self.engine.lookup_done(answer.result, now, answer.appointment.target_id)
            elif r.kind == 'checkin':
                self.engine.checkin_done(answer.result, now, answer.appointment.display_number,
                                         answer.estimated_wait_minutes, answer.appointment.appointment_time)
            elif r.kind == 'ticket':
                self.engine.ticket_done(answer.result, now, answer.display_number, answer.waiting_count,
                                        answer.estimated_wait_minutes)
            elif r.kind == 'escort':
                self._on_goal_response(answer)
            self._flush()

    def _on_goal_response(self, goal_handle) -> None:
        if goal_handle is None or not goal_handle.accepted:
            self.get_logger().warning('escort goal rejected')
            self.engine.escort_unavailable(self._now())
            return
        if self.engine.state != 'escorting':
            goal_handle.cancel_goal_async()  # the visitor changed their mind while the goal was on its way
            return
        self._goal_handle = goal_handle
        goal_handle.get_result_async().add_done_callback(lambda fut, gh=goal_handle: self._on_escort_result(gh, fut))

    def _on_escort_result(self, goal_handle, future) -> None:
        with self._lock:
            if goal_handle is not self._goal_handle:
                return
            self._goal_handle = None
            wrapped = future.result()
            if wrapped.status == GoalStatus.STATUS_CANCELED and wrapped.result.outcome == Escort.Result.ARRIVED:
                outcome = Escort.Result.CANCELED
            else:
                outcome = wrapped.result.outcome
            self.get_logger().info(f'escort finished: outcome {outcome} ({wrapped.result.message})')
            self.engine.escort_done(outcome, self._now())
            self._flush()

    # -- subscriptions and services ----------------------------------------------------------------------------------
    def _on_tick(self) -> None:
        with self._lock:
            now = self._now()
            self._pump_requests(now)
            self._watch_escort_server(now)
            self.engine.tick(now)
            self._flush()

    def _watch_escort_server(self, now: float) -> None:
        """An escort server that dies mid-goal never sends its result: do not wait for it forever."""
        if self._goal_handle is None or self._escort.server_is_ready():
            self._escort_gone_since = None
            return
        if self._escort_gone_since is None:
            self._escort_gone_since = now
        elif now - self._escort_gone_since >= self.p.server_wait_s:
            self._goal_handle, self._escort_gone_since = None, None
            self.health.set(DEGRADED, 'escort unavailable (its server went away during an escort)')
            self.get_logger().warning('escort server went away during an escort; telling the visitor')
            self.engine.escort_done(Escort.Result.NAVIGATION_FAILED, now)

    def _on_speech(self, msg: RecognizedSpeech) -> None:
        self._event(self.engine.hear, msg.text, msg.language, self._now(), msg.source)

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

    def _on_speech_status(self, msg: SpeechStatus) -> None:
        """Kept for the panel/diagnostics; the engine's timeouts already allow for speaking time."""

    def _on_safety(self, msg: SafetyState) -> None:
        self._event(self.engine.set_estop, bool(msg.estop_active), self._now())

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

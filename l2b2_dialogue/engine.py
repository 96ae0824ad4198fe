"""The conversation as a `transitions` state machine, with no ROS in it.

The engine is fed events (a visitor approached or left, an utterance, a touch, a clock tick, the
result of an escort or a queue request, the emergency stop, staff takeover) and answers with
*effects* (say this, start an escort, look up a booking, ...) that the ROS node carries out. The
node reports each effect's outcome back as another event, so the engine never waits on anything
and a missing or slow server can never hang the conversation. Time is whatever the caller passes
as ``now`` (seconds on the node clock), so tests and ``use_sim_time`` run it faster than real time.

What each state does (time-out, question, buttons, utterance handler) is one row of
:data:`l2b2_dialogue.states.SPECS`; this module reads the table. Check-in and tickets are
:mod:`l2b2_dialogue.checkin`, the escort :mod:`l2b2_dialogue.escorting`, offers and clarifying
:mod:`l2b2_dialogue.offers`, the visitor screen's buttons
and touches :mod:`l2b2_dialogue.screen`, opening hours :mod:`l2b2_dialogue.opening_hours`.

The office day (issue 16) comes in twice: an :class:`~l2b2_office.day_cycle.OfficeCalendar` (opening hours plus
the public holidays of config/office.yaml; none given: no holidays and no closing notices) makes the robot say
when a visitor's department closes within ``closing_notice_minutes`` and whether it still takes them; and the
office node's word on escorts (:meth:`DialogueEngine.office_status`, from /office/status) makes the robot show
the way on the screen instead of offering an escort while escorts are refused (e.g. a low battery).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
import uuid

from transitions import Machine

from l2b2_common.catalog import Catalog, other_language
from l2b2_dialogue.checkin import QueueConversation
from l2b2_dialogue.combine import ASR_SOURCES, weighed_by_asr
from l2b2_dialogue.effects import (
    CancelEscort,
    CheckIn,
    DrawTicket,
    LookupAppointment,
    Say,
    Snapshot,
    StartEscort,
    TellStaff,
)
from l2b2_dialogue.escorting import EscortConversation
from l2b2_dialogue.nlu import Understander, Understanding
from l2b2_dialogue.normalize import Utterance
from l2b2_dialogue.offers import OfferConversation
from l2b2_dialogue.opening_hours import opening_hours_answer
from l2b2_dialogue.responses import Responses
from l2b2_dialogue.screen import VisitorScreen
from l2b2_dialogue.settings import Settings
from l2b2_dialogue.states import CONVERSING, SPECS, STATES, TRANSITIONS, StateSpec
from l2b2_office.day_cycle import DayCycleSettings, OfficeCalendar

__all__ = ['CONVERSING', 'STATES', 'TRANSITIONS', 'CancelEscort', 'CheckIn', 'DialogueEngine', 'DrawTicket',
           'LookupAppointment', 'Say', 'Settings', 'Snapshot', 'StartEscort', 'TellStaff']


@dataclass
class _Session:
    id: str = ''
    language: str = 'de'
    intent: str = ''
    target: str = ''
    confidence: float = 0.0
    candidates: list[str] = field(default_factory=list)
    offer_target: str = ''
    user_text: str = ''
    robot_text: str = ''
    display_number: str = ''
    wait_minutes: int = 0
    booking_number: str = ''
    awaiting_name: bool = False
    escorted: bool = False
    pending: str = ''  # 'lookup', 'checkin', 'ticket', 'escort' while a request is out
    misunderstood: int = 0  # answers in a row the robot could only meet with "please say it again"
    checkin_failures: int = 0  # failed booking look-ups in this conversation (checkin_max_failures)
    tickets: list[str] = field(default_factory=list)  # waiting numbers drawn in this conversation
    noticed: set[str] = field(default_factory=set)  # departments whose closing soon the visitor was told
    ended: bool = False  # said goodbye (farewell, returning): whoever speaks next begins a new conversation


class DialogueEngine(VisitorScreen, QueueConversation, EscortConversation, OfferConversation):
    """The conversation: events in, effects out, one `transitions` state machine in between."""

    def __init__(self, catalog: Catalog, nlu: Understander, responses: Responses, settings: Settings | None = None,
                 wall_clock: Callable[[], datetime] | None = None, calendar: OfficeCalendar | None = None,
                 day_cycle: DayCycleSettings | None = None):
        self.catalog = catalog
        self.nlu = nlu
        self.responses = responses
        self.settings = settings or Settings()
        self.wall_clock = wall_clock or datetime.now
        #: Opening hours and public holidays; None: holidays unknown, no closing notices.
        self.calendar = calendar
        #: closing_notice_minutes and min_service_minutes (config/office.yaml).
        self.day_cycle = day_cycle or DayCycleSettings()
        #: Why the office node refuses new escorts (its /office/status reason); None while accepted or unknown.
        self.escort_refusal: str | None = None
        self.effects: list[Any] = []
        self.version = 0
        self.deadline: float | None = None
        self.reprompts = 0
        self.estop_active = False
        self.visitor_present = False
        self.now = 0.0
        self.session = _Session(language=self.settings.default_language)
        #: True while an utterance is handled: only then do answers count towards the misunderstanding limit.
        self._hearing = False
        self._init_queue()
        self.machine = Machine(model=self, states=list(STATES), transitions=TRANSITIONS, initial='idle',
                               auto_transitions=False, after_state_change='_state_changed')

    @property
    def spec(self) -> StateSpec:
        return SPECS[self.state]

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def _state_changed(self) -> None:
        self.reprompts = 0
        timeout = self.spec.timeout
        self.deadline = None if timeout is None else self.now + getattr(self.settings, timeout)
        if self.state == 'idle':
            self.session = _Session(language=self.session.language if self.visitor_present
                                    else self.settings.default_language)
        elif self.spec.conversation_over:
            self.session.ended = True
        self.version += 1

    def _touch_version(self) -> None:
        self.version += 1

    def drain(self) -> list[Any]:
        """The effects produced since the last call, in order."""
        out, self.effects = self.effects, []
        return out

    def _text(self, key: str, **values: object) -> str:
        return self.responses.text(key, self.session.language, **values)

    def _say(self, key: str, before: str = '', after: str = '', **values: object) -> None:
        """Say the sentence ``key``, with ``before``/``after`` (texts already in the language) around it."""
        if self._hearing:
            self.session.misunderstood = 0  # the robot could use the answer
        lang = self.session.language
        text = ' '.join(t for t in (before, self.responses.text(key, lang, **values), after) if t)
        self.session.robot_text = text
        self.effects.append(Say(text, lang, key, self.session.id))
        self._touch_version()

    def _reprompt(self, key: str, **values: object) -> None:
        """Answer an utterance the robot cannot use with "please say it again" -- boundedly.

        Silence is bounded by tick(); this bounds answers the robot cannot use, which would otherwise
        be met with the same re-prompt for as long as the visitor keeps trying: after max_reprompts in a
        row the info desk is offered instead (and when even that offer meets no usable answer, goodbye).
        """
        if not self._hearing:
            self._say(key, **values)
            return
        s = self.session
        misunderstood = s.misunderstood + 1
        if misunderstood > self.settings.max_reprompts and self.spec.question is not None:
            if self.state == 'confirming' and s.offer_target == self.settings.info_desk:
                self._farewell()  # even the info desk was offered in vain: let the visitor go
            else:
                self._offer(self.settings.info_desk, key='not_understood_info')
            return  # (saying either starts the count again)
        self._say(key, **values)
        s.misunderstood = misunderstood

    def _name(self, target_id: str) -> str:
        return self.catalog[target_id].display_name(self.session.language)

    def _to(self, target_id: str) -> str:
        return self.responses.to_target(target_id, self._name(target_id), self.session.language)

    def _start_session(self) -> None:
        self._leave_ended_session()
        if not self.session.id:
            self.session.id = uuid.uuid4().hex[:12]

    def _leave_ended_session(self) -> None:
        """Someone speaks after a goodbye (the next visitor, as a rule): a new conversation with its own id,
        so nothing of the last one (its number, its answers, its sentences) reaches the screens again. Kept:
        the language just heard and whether the robot still has to drive home."""
        s = self.session
        if s.ended:
            self.session = _Session(language=s.language, escorted=s.escorted, user_text=s.user_text)

    def snapshot(self) -> Snapshot:
        s = self.session
        return Snapshot(state=self.state, session_id=s.id, language=s.language, intent=s.intent, target_id=s.target,
                        confidence=float(s.confidence), candidates=list(s.candidates), last_user_text=s.user_text,
                        last_robot_text=s.robot_text, choices=self.choices(), staff_takeover=self.state == 'takeover',
                        display_number=s.display_number, estimated_wait_minutes=int(s.wait_minutes))

    # -- events --------------------------------------------------------------------------------------------
    def approach(self, now: float) -> None:
        """A person came within greeting distance."""
        self.now = now
        self.visitor_present = True
        if self.estop_active or not self.spec.greets_arrivals:
            return
        self._greet()

    def leave(self, now: float) -> None:
        """The visitor walked away: a clean, quiet reset (an escort watches its visitor itself)."""
        self.now = now
        self.visitor_present = False
        if self.state in ('escorting', 'takeover', 'idle'):
            return
        self.reset()

    def do_reset(self, now: float) -> None:
        """Staff or a test resets the conversation: cancel what is under way, go idle."""
        self.now = now
        if self.state == 'escorting':
            self.effects.append(CancelEscort())
        self.reset()

    def _greet(self) -> None:
        self.greet()
        self._start_session()
        self._new_queue_conversation()
        self._say('greeting')

    def hear(self, text: str, language: str, now: float, source: str = '', confidence: float = 1.0) -> None:
        """An utterance (ASR, typed on the screen, or a scenario); ``confidence``: the recogniser's, for ASR."""
        self.now = now
        if self.estop_active:
            return
        utterance = Utterance(text)
        if not utterance.says_something:
            return  # nothing was said (ASR noise, an empty line): no answer, no state change
        self.session.user_text = utterance.text[:200]
        self._touch_version()
        if self.state == 'takeover':
            return
        lang = language if language in self.nlu.target_index else self.nlu.detect_language(utterance,
                                                                                              self.session.language)
        u = self.nlu.understand(utterance, lang)
        if source in ASR_SOURCES:
            u = weighed_by_asr(u, confidence, self.settings.asr_reject_below, self.settings.asr_ask_below,
                               self.settings.candidate_min_confidence)
        was_hearing, self._hearing = self._hearing, True
        try:
            self._handle(u)
        finally:
            self._hearing = was_hearing

    def set_language(self, language: str, now: float) -> bool:
        """Switch the visitor's language at any point; the current question is asked again in it."""
        self.now = now
        if language not in self.responses.languages:
            return False
        changed = language != self.session.language
        self.session.language = language
        self._touch_version()
        if changed:
            self._ask(switched=True)
        return True

    def set_takeover(self, on: bool, now: float) -> None:
        """Staff speak through the robot (via /speech/say) while on; the dialogue stays quiet."""
        self.now = now
        if on and self.state != 'takeover':
            if self.state == 'escorting':
                self.effects.append(CancelEscort())
            self._start_session()
            self.take_over()
        elif not on and self.state == 'takeover':
            if self.visitor_present and not self.estop_active:
                self.listen()
                self._say('anything_else')
            else:
                self.reset()

    def set_estop(self, active: bool, now: float) -> None:
        """Emergency stop: stop talking (the TTS is silenced by the safety gate), abandon the escort, go idle."""
        self.now = now
        was = self.estop_active
        self.estop_active = active
        if active and not was:
            if self.state == 'escorting':
                self.effects.append(CancelEscort())
            if self.state != 'idle':
                self.reset()

    def office_status(self, accepting_escorts: bool, reason: str, now: float) -> None:
        """The office node's /office/status: while it refuses new escorts, no escort is offered."""
        self.now = now
        self.escort_refusal = None if accepting_escorts else (reason or 'unknown')

    def tick(self, now: float) -> None:
        """Clock tick: the state's time-out (a re-prompt, bounded, or moving on)."""
        self.now = now
        if self.deadline is None or now < self.deadline or self.session.pending:
            return
        getattr(self, self.spec.on_timeout)()

    def _ask_again_or_leave(self) -> None:
        if self.reprompts < self.settings.max_reprompts:
            self.reprompts += 1
            self.deadline = self.now + getattr(self.settings, self.spec.timeout)
            self._ask()
        else:
            self._farewell()

    def _after_farewell(self) -> None:
        if self.session.escorted:
            self.head_home()
            self._say('returning')
        else:
            self.reset()

    def _ask(self, switched: bool = False) -> None:
        """Ask the state's question again: as first asked after a language switch, as a re-prompt after silence."""
        spec = self.spec
        question = spec.name_question if spec.name_question and self.session.awaiting_name else spec.question
        if question is None:
            return
        values = getattr(self, question.values)() if question.values else {}
        key = question.first if switched else question.again
        if key == 'clarify':  # two places are asked about as "A or B?"
            key = self._clarify_key()
        self._say(key, **values)

    def _farewell(self) -> None:
        self.bid_farewell()
        self._say('farewell')

    # -- understanding → conversation ------------------------------------------------------------------------
    def _remember(self, u: Understanding) -> None:
        s = self.session
        s.intent, s.confidence = u.intent, u.confidence
        if u.target:
            s.target = u.target
        self._touch_version()

    def _handle(self, u: Understanding, name: str = '') -> None:
        if self.spec.between_visitors:
            self._leave_ended_session()
        self._remember(u)
        if u.intent == 'language_switch':
            target = u.slots.get('language') or other_language(self.session.language)
            if self.spec.between_visitors:
                self.session.language = target
                self._greet()
                return
            if target == self.session.language:
                self._ask(switched=True)
            else:
                self.set_language(target, self.now)
            return
        if u.language in self.responses.languages and u.confidence >= self.settings.confidence_threshold \
                and u.intent not in ('affirm', 'deny'):
            self.session.language = u.language
        if self.state == 'escorting':
            self._while_escorting(u)
            return
        if self.spec.between_visitors:
            self._start_session()
            self._new_queue_conversation()
            if u.intent in ('greeting', 'smalltalk', 'affirm', 'deny') or u.intent == 'out_of_scope' \
                    and u.confidence < self.settings.confidence_threshold:
                self._greet()
                return
            if u.intent == 'goodbye':
                if self.state != 'idle':
                    self.reset()
                return
            self.listen()
        if u.intent == 'goodbye':
            self._farewell()
        elif u.intent == 'staff_help' and self.state != 'staff_handoff':
            self.hand_off()
            self._say('staff_handoff')
        else:
            getattr(self, self.spec.hear)(u, name)

    def _request(self, u: Understanding, name: str = '') -> None:
        """A request heard while listening (or a new request in any conversing state)."""
        if u.intent == 'escort' and u.target:
            if u.clarify:
                self._ask_between(list(u.clarify))
            elif u.confidence >= self.settings.confidence_threshold:
                self._offer(u.target)
            else:
                self._clarify_from(u)
        elif u.intent == 'appointment_checkin':
            self._start_checkin(u, name)
        elif u.intent == 'ticket':
            self._ask_for_ticket(u)
        elif u.intent == 'opening_hours':
            key, values = opening_hours_answer(self.catalog, self.responses, u.target, self.settings.info_desk,
                                               self.session.language, self.wall_clock(),
                                               self.calendar.holidays if self.calendar else ())
            self._say(key, **values)
            self.listen()
        elif u.intent in ('greeting', 'affirm'):
            self.listen()
            self._say('how_can_i_help')
        elif u.intent == 'smalltalk':
            self.listen()
            self._say('smalltalk')
        elif u.intent == 'deny':
            self._farewell()
        elif u.intent == 'out_of_scope' and u.confidence >= self.settings.confidence_threshold:
            self._offer(self.settings.info_desk, key='out_of_scope')
        else:
            self.listen()
            self._reprompt('not_understood')

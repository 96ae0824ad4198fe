"""The conversation as a `transitions` state machine, with no ROS in it.

The engine is fed events (a visitor approached or left, an utterance, a touch, a clock tick, the
result of an escort or a queue request, the emergency stop, staff takeover) and answers with
*effects* (say this, start an escort, look up a booking, ...) that the ROS node carries out. The
node reports each effect's outcome back as another event, so the engine never waits on anything
and a missing or slow server can never hang the conversation. Time is whatever the caller passes
as ``now`` (seconds on the node clock), so tests and ``use_sim_time`` run it faster than real time.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
import itertools
from typing import Any
import uuid

from transitions import Machine

from l2b2_common.catalog import DAYS, Catalog, other_language
from l2b2_dialogue.nlu import Understander, Understanding, name_from_text
from l2b2_dialogue.responses import Responses

STATES = ('idle', 'greeting', 'listening', 'clarifying', 'confirming', 'checkin', 'ticket', 'escorting',
          'arrived', 'farewell', 'returning', 'staff_handoff', 'takeover')
#: States in which the robot is talking with a visitor and waits for an answer.
CONVERSING = ['greeting', 'listening', 'clarifying', 'confirming', 'checkin', 'ticket']
#: What the robot says when it could not use an answer; bounded by Settings.max_reprompts.
REPROMPT_KEYS = frozenset({'not_understood', 'reprompt_clarify', 'reprompt_confirm', 'reprompt_checkin',
                           'reprompt_checkin_name', 'reprompt_ticket', 'reprompt_listening'})
TRANSITIONS = [
    {'trigger': 'greet', 'source': ['idle', 'arrived', 'farewell', 'returning'], 'dest': 'greeting'},
    {'trigger': 'listen', 'source': [*CONVERSING, 'idle', 'arrived', 'farewell', 'returning', 'staff_handoff',
                                     'takeover', 'escorting'], 'dest': 'listening'},
    {'trigger': 'clarify', 'source': CONVERSING, 'dest': 'clarifying'},
    {'trigger': 'offer', 'source': [*CONVERSING, 'staff_handoff', 'escorting'], 'dest': 'confirming'},
    {'trigger': 'ask_booking', 'source': CONVERSING, 'dest': 'checkin'},
    {'trigger': 'ask_department', 'source': CONVERSING, 'dest': 'ticket'},
    {'trigger': 'go', 'source': ['confirming', 'staff_handoff'], 'dest': 'escorting'},
    {'trigger': 'arrive', 'source': 'escorting', 'dest': 'arrived'},
    {'trigger': 'hand_off', 'source': CONVERSING, 'dest': 'staff_handoff'},
    {'trigger': 'bid_farewell', 'source': [*CONVERSING, 'arrived', 'escorting', 'staff_handoff'], 'dest': 'farewell'},
    {'trigger': 'head_home', 'source': 'farewell', 'dest': 'returning'},
    {'trigger': 'take_over', 'source': '*', 'dest': 'takeover'},
    {'trigger': 'reset', 'source': '*', 'dest': 'idle'},
]

# Result codes of the queue services and the Escort action (same numbers as l2b2_interfaces).
OK, NOT_FOUND, FORBIDDEN, UNAVAILABLE, INVALID, ERROR, TOO_EARLY, TOO_LATE, ALREADY_CHECKED_IN, CLOSED = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
ARRIVED, UNKNOWN_TARGET, VISITOR_LOST, NAVIGATION_FAILED, CANCELED, ESTOPPED, BUSY = range(7)


# -- effects: what the node must do -------------------------------------------------------------------
@dataclass(frozen=True)
class Say:
    text: str
    language: str
    key: str


@dataclass(frozen=True)
class StartEscort:
    target_id: str
    language: str


@dataclass(frozen=True)
class CancelEscort:
    pass


@dataclass(frozen=True)
class LookupAppointment:
    booking_number: str
    #: The visitor's (sur)name, which confirms the booking is theirs (the queue bridge checks it).
    name: str = field(default='', repr=False)


@dataclass(frozen=True)
class CheckIn:
    booking_number: str


@dataclass(frozen=True)
class DrawTicket:
    target_id: str
    idempotency_key: str


@dataclass
class Settings:
    """Timeouts (seconds) and limits; the node fills them from its parameters."""

    confidence_threshold: float = 0.6
    candidate_min_confidence: float = 0.15
    max_candidates: int = 3
    max_reprompts: int = 2
    greeting_timeout_s: float = 6.0
    answer_timeout_s: float = 12.0
    arrived_timeout_s: float = 4.0
    farewell_timeout_s: float = 4.0
    returning_timeout_s: float = 8.0
    staff_handoff_timeout_s: float = 90.0
    default_language: str = 'de'
    waiting_area: str = 'wartebereich'
    info_desk: str = 'info'
    #: Ask for the surname after the booking number (the queue bridge confirms a booking by name).
    checkin_ask_name: bool = True
    listening_choices: tuple[str, ...] = ('checkin', 'ticket', 'pass_ausweis', 'meldestelle', 'auslaenderbehoerde',
                                          'standesamt', 'info', 'wc')


@dataclass
class Snapshot:
    """What DialogueState shows."""

    state: str
    session_id: str
    language: str
    intent: str
    target_id: str
    confidence: float
    candidates: list[str]
    last_user_text: str
    last_robot_text: str
    choices: list[str]
    staff_takeover: bool
    display_number: str
    estimated_wait_minutes: int


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


class DialogueEngine:
    """The conversation: events in, effects out, one `transitions` state machine in between."""

    def __init__(self, catalog: Catalog, nlu: Understander, responses: Responses, settings: Settings | None = None,
                 wall_clock: Callable[[], datetime] | None = None):
        self.catalog = catalog
        self.nlu = nlu
        self.responses = responses
        self.settings = settings or Settings()
        self.wall_clock = wall_clock or datetime.now
        self.effects: list[Any] = []
        self.version = 0
        self.deadline: float | None = None
        self.reprompts = 0
        self.estop_active = False
        self.visitor_present = False
        self.now = 0.0
        self.session = _Session(language=self.settings.default_language)
        self._tickets = itertools.count(1)
        self.machine = Machine(model=self, states=list(STATES), transitions=TRANSITIONS, initial='idle',
                               auto_transitions=False, after_state_change='_state_changed')

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def _state_changed(self) -> None:
        self.reprompts = 0
        timeouts = {'greeting': self.settings.greeting_timeout_s, 'arrived': self.settings.arrived_timeout_s,
                    'farewell': self.settings.farewell_timeout_s, 'returning': self.settings.returning_timeout_s,
                    'staff_handoff': self.settings.staff_handoff_timeout_s}
        timeout = timeouts.get(self.state, self.settings.answer_timeout_s if self.state in CONVERSING else None)
        self.deadline = None if timeout is None else self.now + timeout
        if self.state == 'idle':
            self.session = _Session(language=self.session.language if self.visitor_present
                                    else self.settings.default_language)
        self.version += 1

    def _touch_version(self) -> None:
        self.version += 1

    def drain(self) -> list[Any]:
        """The effects produced since the last call, in order."""
        out, self.effects = self.effects, []
        return out

    def _say(self, key: str, **values: object) -> None:
        lang = self.session.language
        text = self.responses.text(key, lang, **values)
        self.session.robot_text = text
        self.effects.append(Say(text, lang, key))
        self._touch_version()

    def _name(self, target_id: str) -> str:
        return self.catalog[target_id].display_name(self.session.language)

    def _to(self, target_id: str) -> str:
        return self.responses.to_target(target_id, self._name(target_id), self.session.language)

    def _start_session(self) -> None:
        if not self.session.id:
            self.session.id = uuid.uuid4().hex[:12]

    def snapshot(self) -> Snapshot:
        s = self.session
        return Snapshot(state=self.state, session_id=s.id, language=s.language, intent=s.intent, target_id=s.target,
                        confidence=float(s.confidence), candidates=list(s.candidates), last_user_text=s.user_text,
                        last_robot_text=s.robot_text, choices=self.choices(), staff_takeover=self.state == 'takeover',
                        display_number=s.display_number, estimated_wait_minutes=int(s.wait_minutes))

    def choices(self) -> list[str]:
        """Buttons for the visitor screen: values a VisitorInput 'choice' may carry in this state."""
        if self.state in ('greeting', 'listening'):
            return [c for c in self.settings.listening_choices if c in ('checkin', 'ticket') or c in self.catalog]
        if self.state == 'clarifying':
            return [*self.session.candidates, 'none']
        if self.state in ('confirming', 'staff_handoff'):
            return ['yes', 'no']
        if self.state == 'ticket' and not self.session.pending:
            return [t.id for t in self.catalog.targets.values() if t.scope_id is not None]
        if self.state == 'escorting':
            return ['stop']
        return []

    # -- events --------------------------------------------------------------------------------------------
    def approach(self, now: float) -> None:
        """A person came within greeting distance."""
        self.now = now
        self.visitor_present = True
        if self.estop_active or self.state not in ('idle', 'returning'):
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
        self._say('greeting')

    def hear(self, text: str, language: str, now: float, source: str = '') -> None:
        """An utterance (ASR, typed on the screen, or a scenario)."""
        self.now = now
        if self.estop_active:
            return
        text = text if isinstance(text, str) else str(text)
        if not any(ch.isalnum() for ch in text):
            return  # nothing was said (ASR noise, an empty line): no answer, no state change
        self.session.user_text = text[:200]
        self._touch_version()
        if self.state == 'takeover':
            return
        lang = language if language in self.nlu.target_index else self.nlu.detect_language(text,
                                                                                             self.session.language)
        u = self.nlu.understand(text, lang)
        first_effect = len(self.effects)
        self._handle(u)
        self._count_misunderstanding(first_effect)

    def _count_misunderstanding(self, first_effect: int) -> None:
        """Bound "please say it again": after max_reprompts in a row, offer the info desk instead.

        Silence is bounded by tick(); this bounds answers the robot cannot use, which would otherwise
        be met with the same re-prompt for as long as the visitor keeps trying.
        """
        said = [e.key for e in self.effects[first_effect:] if isinstance(e, Say)]
        if not said:
            return
        if not all(key in REPROMPT_KEYS for key in said):
            self.session.misunderstood = 0
            return
        self.session.misunderstood += 1
        if self.session.misunderstood > self.settings.max_reprompts and self.state in (*CONVERSING,
                                                                                       'staff_handoff'):
            del self.effects[first_effect:]
            self.session.misunderstood = 0
            if self.state == 'confirming' and self.session.offer_target == self.settings.info_desk:
                self._farewell()  # even the info desk was offered in vain: let the visitor go
            else:
                self._offer(self.settings.info_desk, key='not_understood_info')

    def touch(self, action: str, value: str, language: str, now: float) -> None:
        """A touch on the visitor screen; everything works without speech."""
        self.now = now
        if self.estop_active or self.state == 'takeover':
            return
        if language in self.responses.languages and action != 'language':
            self.session.language = language
        if action == 'start':
            if self.state in ('idle', 'arrived', 'farewell', 'returning'):
                self._greet()
        elif action == 'language':
            self.set_language(value, now)
        elif action == 'cancel':
            if self.state == 'escorting':
                self.effects.append(CancelEscort())
            if self.state != 'idle':
                self._say('cancelled')
                self.reset()
        elif action == 'text':
            self.hear(value, language, now, 'touch')
        elif action == 'target' and value in self.catalog:
            self._handle(Understanding('escort', value, 1.0, self.session.language))
        elif action == 'checkin':
            # "4711" or "4711 Mustermann": the number, optionally followed by the name on the booking.
            number, _, name = value.strip().partition(' ')
            if self.state == 'checkin' and self.session.awaiting_name and not number.isdigit():
                self.hear(value, language, now, 'touch')
                return
            slots = {'booking_number': number} if number.isdigit() else {}
            self._handle(Understanding('appointment_checkin', None, 1.0, self.session.language, slots),
                         name=name_from_text(name))
        elif action == 'ticket':
            target = value if value in self.catalog else None
            self._handle(Understanding('ticket', target, 1.0, self.session.language))
        elif action == 'choice':
            self._choice(value)

    def _choice(self, value: str) -> None:
        lang = self.session.language
        if value in ('yes', 'affirm'):
            self._handle(Understanding('affirm', None, 1.0, lang))
        elif value in ('no', 'none', 'deny', 'stop'):
            self._handle(Understanding('deny', None, 1.0, lang))
        elif value == 'cancel':
            self.touch('cancel', '', '', self.now)
        elif value == 'checkin':
            self._handle(Understanding('appointment_checkin', None, 1.0, lang))
        elif value == 'ticket':
            self._handle(Understanding('ticket', None, 1.0, lang))
        elif value in self.catalog:
            intent = 'ticket' if self.state == 'ticket' else 'escort'
            self._handle(Understanding(intent, value, 1.0, lang))

    def set_language(self, language: str, now: float) -> bool:
        """Switch the visitor's language at any point; the current question is asked again in it."""
        self.now = now
        if language not in self.responses.languages:
            return False
        changed = language != self.session.language
        self.session.language = language
        self._touch_version()
        if changed and self.state in (*CONVERSING, 'staff_handoff'):
            self._repeat_question(switched=True)
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

    def tick(self, now: float) -> None:
        """Clock tick: time-outs and bounded re-prompts."""
        self.now = now
        if self.deadline is None or now < self.deadline or self.session.pending:
            return
        state = self.state
        if state == 'greeting':
            self.listen()
        elif state in CONVERSING:
            if self.reprompts < self.settings.max_reprompts:
                self.reprompts += 1
                self.deadline = now + self.settings.answer_timeout_s
                self._repeat_question()
            else:
                self._farewell()
        elif state == 'arrived':
            self._farewell()
        elif state == 'farewell':
            if self.session.escorted:
                self.head_home()
                self._say('returning')
            else:
                self.reset()
        elif state in ('returning', 'staff_handoff'):
            self.reset()

    def _repeat_question(self, switched: bool = False) -> None:
        state, s = self.state, self.session
        if state == 'greeting':
            self._say('greeting' if switched else 'how_can_i_help')
        elif state == 'listening':
            self._say('language_switched' if switched else 'reprompt_listening')
        elif state == 'clarifying':
            self._ask_clarify() if switched else self._say('reprompt_clarify')
        elif state == 'confirming':
            self._say('confirm_escort' if switched else 'reprompt_confirm', to_target=self._to(s.offer_target))
        elif state == 'checkin' and s.awaiting_name:
            self._say('checkin_ask_name' if switched else 'reprompt_checkin_name')
        elif state == 'checkin':
            self._say('checkin_ask_number' if switched else 'reprompt_checkin')
        elif state == 'ticket':
            self._say('ticket_ask_target' if switched else 'reprompt_ticket')
        elif state == 'staff_handoff':
            self._say('staff_handoff')

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
        self._remember(u)
        if u.intent == 'language_switch':
            target = u.slots.get('language') or other_language(self.session.language)
            if self.state in ('idle', 'arrived', 'farewell', 'returning'):
                self.session.language = target
                self._greet()
                return
            if target == self.session.language:
                self._repeat_question(switched=True)
            else:
                self.set_language(target, self.now)
            return
        if u.language in self.responses.languages and u.confidence >= self.settings.confidence_threshold \
                and u.intent not in ('affirm', 'deny'):
            self.session.language = u.language
        state = self.state
        if state == 'escorting':
            self._while_escorting(u)
            return
        if state in ('idle', 'arrived', 'farewell', 'returning'):
            self._start_session()
            if u.intent in ('greeting', 'smalltalk', 'affirm', 'deny') or u.intent == 'out_of_scope' \
                    and u.confidence < self.settings.confidence_threshold:
                self._greet()
                return
            if u.intent == 'goodbye':
                if state != 'idle':
                    self.reset()
                return
            self.listen()
            state = 'listening'
        if u.intent == 'goodbye':
            self._farewell()
        elif u.intent == 'staff_help' and state != 'staff_handoff':
            self.hand_off()
            self._say('staff_handoff')
        elif state == 'clarifying':
            self._in_clarifying(u)
        elif state in ('confirming', 'staff_handoff'):
            self._in_confirming(u)
        elif state == 'checkin':
            self._in_checkin(u, name)
        elif state == 'ticket':
            self._in_ticket(u)
        else:
            self._request(u, name)

    def _request(self, u: Understanding, name: str = '') -> None:
        """A request heard while listening (or a new request in any conversing state)."""
        if u.intent == 'escort' and u.target:
            if u.confidence >= self.settings.confidence_threshold:
                self._offer(u.target)
            else:
                self._clarify_from(u)
        elif u.intent == 'appointment_checkin':
            self._start_checkin(u, name)
        elif u.intent == 'ticket':
            if u.target:
                self._draw_ticket(u.target)
            else:
                self.ask_department()
                self._say('ticket_ask_target')
        elif u.intent == 'opening_hours':
            self._say_opening_hours(u.target)
            self.listen()
        elif u.intent == 'greeting':
            self.listen()
            self._say('how_can_i_help')
        elif u.intent == 'smalltalk':
            self.listen()
            self._say('smalltalk')
        elif u.intent == 'deny':
            self._farewell()
        elif u.intent == 'affirm':
            self.listen()
            self._say('how_can_i_help')
        elif u.intent == 'out_of_scope' and u.confidence >= self.settings.confidence_threshold:
            self._offer(self.settings.info_desk, key='out_of_scope')
        else:
            self.listen()
            self._say('not_understood')

    def _offer(self, target_id: str, key: str = 'confirm_escort', **values: object) -> None:
        self.session.offer_target = target_id
        self.session.target = target_id
        self.offer()
        self._say(key, to_target=self._to(target_id), **values)

    def _clarify_from(self, u: Understanding) -> None:
        candidates = [t for t, c in u.candidates if c >= self.settings.candidate_min_confidence]
        candidates = candidates[:self.settings.max_candidates]
        if not candidates:
            self.listen()
            self._say('not_understood')
            return
        self.session.candidates = candidates
        self.clarify()
        self._ask_clarify()

    def _ask_clarify(self) -> None:
        names = [self._name(t) for t in self.session.candidates]
        self._say('clarify', options=self.responses.join(names, self.session.language))

    def _in_clarifying(self, u: Understanding) -> None:
        s = self.session
        chosen = None
        if u.target in s.candidates and u.intent in ('escort', 'affirm', 'out_of_scope'):
            chosen = u.target
        elif 'ordinal' in u.slots and u.slots['ordinal'] < len(s.candidates):
            chosen = s.candidates[u.slots['ordinal']]
        elif u.intent == 'affirm' and len(s.candidates) == 1:
            chosen = s.candidates[0]
        if chosen:
            self._offer(chosen)
        elif u.intent == 'deny':
            self.listen()
            self._say('where_instead')
        elif u.intent == 'escort' and u.target and u.confidence >= self.settings.confidence_threshold:
            self._offer(u.target)
        elif u.intent in ('escort', 'affirm', 'out_of_scope'):
            self._say('reprompt_clarify')
        else:
            self._request(u)

    def _in_confirming(self, u: Understanding) -> None:
        s = self.session
        if u.intent == 'affirm':
            target = s.offer_target or self.settings.info_desk
            if self.estop_active:
                self.listen()
                self._say('estop_blocked')
                return
            s.target, s.pending, s.escorted = target, 'escort', True
            self.go()
            self._say('escort_start', to_target=self._to(target))  # the escort node adds "Bitte folgen Sie mir"

            self.effects.append(StartEscort(target, s.language))
        elif u.intent == 'deny':
            # "Nein danke" declines politely (the visitor knows the way); a bare "nein" corrects the target.
            if self.state == 'staff_handoff' or s.display_number or u.slots.get('thanks'):
                self._farewell()
            else:
                self.listen()
                self._say('where_instead')
        elif u.intent in ('escort', 'appointment_checkin', 'ticket', 'opening_hours', 'greeting', 'smalltalk') \
                and (u.target or u.intent != 'escort'):
            self._request(u)
        else:
            self._say('reprompt_confirm', to_target=self._to(s.offer_target or self.settings.info_desk))

    # -- check-in ------------------------------------------------------------------------------------------------
    def _start_checkin(self, u: Understanding, name: str = '') -> None:
        number = u.slots.get('booking_number')
        if self.state != 'checkin':
            self.ask_booking()
        if number:
            self._got_number(number, name)
        else:
            self._say('checkin_ask_number')

    def _got_number(self, number: str, name: str = '') -> None:
        s = self.session
        s.booking_number = number
        if self.settings.checkin_ask_name and not name:
            s.awaiting_name = True
            self._say('checkin_ask_name')
        else:
            self._lookup(name)

    def _in_checkin(self, u: Understanding, name: str = '') -> None:
        s = self.session
        if s.pending:
            return  # a lookup is under way; its answer drives the conversation
        if s.awaiting_name:
            if u.intent in ('deny', 'goodbye') and u.confidence >= 0.9:
                s.awaiting_name = False
                self.listen()
                self._say('where_instead')
                return
            name = name or name_from_text(s.user_text)
            s.user_text = '***' if name else s.user_text  # the name is not shown on the panels
            if name:
                s.awaiting_name = False
                self._lookup(name)
            else:
                self._say('reprompt_checkin_name')
            return
        number = u.slots.get('booking_number')
        if number:
            self._got_number(number, name)
        elif u.intent == 'deny':
            self.listen()
            self._say('where_instead')
        elif u.intent in ('escort', 'ticket', 'opening_hours') and (u.target or u.intent == 'ticket'):
            self._request(u)
        else:
            self._say('reprompt_checkin')

    def _lookup(self, name: str = '') -> None:
        s = self.session
        s.pending = 'lookup'
        self._say('checkin_looking_up')
        self.effects.append(LookupAppointment(s.booking_number, name))

    def lookup_done(self, result: int, now: float, appointment_target: str = '') -> None:
        """Answer of /queue/lookup_appointment (UNAVAILABLE when the server is missing or slow)."""
        self.now = now
        s = self.session
        if self.state != 'checkin' or s.pending != 'lookup':
            return
        s.pending = ''
        if appointment_target in self.catalog:
            s.target = appointment_target
        if result == OK:
            s.pending = 'checkin'
            self.effects.append(CheckIn(s.booking_number))
            self._touch_version()
        elif result in (NOT_FOUND, INVALID, FORBIDDEN):
            self.deadline = now + self.settings.answer_timeout_s
            if self.reprompts < self.settings.max_reprompts:
                self.reprompts += 1
                if result == FORBIDDEN and self.settings.checkin_ask_name:
                    s.awaiting_name = True
                    self._say('checkin_name_mismatch')
                else:
                    self._say('checkin_not_found')
            else:
                self._offer(self.settings.info_desk, key='checkin_failed')
        elif result == UNAVAILABLE:
            self._offer(self.settings.info_desk, key='queue_unavailable')
        else:
            self._offer(self.settings.info_desk, key='checkin_failed')

    def checkin_done(self, result: int, now: float, display_number: str = '', wait_minutes: int = 0,
                     appointment_time: str = '') -> None:
        """Answer of /queue/check_in."""
        self.now = now
        s = self.session
        if self.state != 'checkin' or s.pending != 'checkin':
            return
        s.pending = ''
        s.booking_number = ''
        if result in (OK, ALREADY_CHECKED_IN):
            s.display_number, s.wait_minutes = display_number, max(0, int(wait_minutes))
            key = 'checkin_ok' if result == OK else 'checkin_already'
            self._offer(self.settings.waiting_area, key=key, number=display_number, minutes=s.wait_minutes)
        elif result == TOO_EARLY:
            self._offer(self.settings.waiting_area, key='checkin_too_early', time=_clock_text(appointment_time))
        elif result == TOO_LATE:
            self._offer(self.settings.info_desk, key='checkin_too_late')
        elif result == UNAVAILABLE:
            self._offer(self.settings.info_desk, key='queue_unavailable')
        else:
            self._offer(self.settings.info_desk, key='checkin_failed')

    # -- tickets -------------------------------------------------------------------------------------------------
    def _in_ticket(self, u: Understanding) -> None:
        if self.session.pending:
            return
        target = u.target if u.intent in ('escort', 'ticket', 'affirm', 'out_of_scope') else None
        if target:
            self._draw_ticket(target)
        elif u.intent == 'deny':
            self.listen()
            self._say('where_instead')
        elif u.intent in ('appointment_checkin', 'opening_hours', 'goodbye'):
            self._request(u)
        else:
            self._say('reprompt_ticket')

    def _draw_ticket(self, target_id: str) -> None:
        s = self.session
        if self.catalog[target_id].scope_id is None:
            self._offer(target_id, key='ticket_no_queue', target=self._name(target_id))
            return
        if self.state != 'ticket':
            self.ask_department()
        s.target, s.pending = target_id, 'ticket'
        self._start_session()
        self.effects.append(DrawTicket(target_id, f'{s.id}-{next(self._tickets)}'))
        self._touch_version()

    def ticket_done(self, result: int, now: float, display_number: str = '', waiting_count: int = 0,
                    wait_minutes: int = 0) -> None:
        """Answer of /queue/draw_ticket."""
        self.now = now
        s = self.session
        if self.state != 'ticket' or s.pending != 'ticket':
            return
        s.pending = ''
        if result == OK:
            s.display_number, s.wait_minutes = display_number, max(0, int(wait_minutes))
            self._offer(self.settings.waiting_area, key='ticket_ok', number=display_number,
                        waiting=max(0, int(waiting_count)), minutes=s.wait_minutes)
        elif result == CLOSED:
            self.listen()
            self._say('ticket_closed', target=self._name(s.target))
        elif result == UNAVAILABLE:
            self._offer(self.settings.info_desk, key='queue_unavailable')
        else:
            self._offer(self.settings.info_desk, key='checkin_failed')

    # -- escort --------------------------------------------------------------------------------------------------
    def _while_escorting(self, u: Understanding) -> None:
        if u.intent in ('deny', 'goodbye'):
            self.effects.append(CancelEscort())
            self.session.pending = ''
            self._say('escort_cancelled')
            self._farewell()
        else:
            self._say('escort_keep_following')

    def escort_done(self, outcome: int, now: float) -> None:
        """Result of the /escort action, or UNAVAILABLE-like outcomes when the server is absent."""
        self.now = now
        s = self.session
        if self.state != 'escorting':
            return
        s.pending = ''
        if outcome == ARRIVED:
            self.arrive()  # the escort node itself announces the arrival ("Wir sind da ...")
        elif outcome == VISITOR_LOST:
            self._say('visitor_lost')
            self.reset()
        elif outcome == CANCELED:
            self._farewell()
        elif outcome == ESTOPPED:
            self._say('escort_stopped')
            self.reset()
        else:  # NAVIGATION_FAILED, UNKNOWN_TARGET, BUSY
            s.escorted = False
            self._offer(self.settings.info_desk, key='escort_failed')

    def escort_unavailable(self, now: float) -> None:
        """No escort server, or it rejected the goal: tell the visitor the way via the info desk."""
        self.now = now
        s = self.session
        if self.state != 'escorting':
            return
        s.pending, s.escorted = '', False
        self.listen()
        self._say('escort_unavailable', to_target=self._to(s.target))

    # -- opening hours -------------------------------------------------------------------------------------------
    def _say_opening_hours(self, target_id: str | None) -> None:
        today = self.wall_clock()
        lang = self.session.language
        target = self.catalog[target_id] if target_id in self.catalog else None
        office = target or (self.catalog[self.settings.info_desk] if self.settings.info_desk in self.catalog
                            else next(iter(self.catalog.targets.values())))
        if office.always_open:
            self._say('opening_hours_always', target=office.display_name(lang), to_target=self._to(office.id))
            return
        spans = office.opening_hours.get(DAYS[today.weekday()], ())
        if not spans:
            key = 'opening_hours_closed_today' if target else 'office_closed_today'
            self._say(key, target=office.display_name(lang))
            return
        parts = [self.responses.text('hours_span', lang, start=f'{a:%H:%M}', end=f'{b:%H:%M}') for a, b in spans]
        text = self.responses.join(parts, lang, 'list_and')
        self._say('opening_hours_today' if target else 'office_hours_today', target=office.display_name(lang),
                  spans=text)


def _clock_text(iso_time: str) -> str:
    """ "2026-11-22T10:30:00" → "10:30" (empty stays empty)."""
    if 'T' in iso_time:
        return iso_time.split('T', 1)[1][:5]
    return iso_time[:5]


DIAGRAM_TITLE = 'l2b2 dialogue — from every state: take_over → takeover, reset → idle'


def export_diagram(path: str, title: str = DIAGRAM_TITLE) -> str:
    """Render the state machine with Graphviz (transitions' GraphMachine); returns the file written.

    The two from-anywhere triggers (take_over, reset) are named in the title instead of drawn
    thirteen times each, which keeps the picture readable.
    """
    from transitions.extensions import GraphMachine

    class _Model:
        pass

    drawn = [t for t in TRANSITIONS if t['source'] != '*']
    machine = GraphMachine(model=_Model(), states=list(STATES), transitions=drawn, initial='idle',
                           auto_transitions=False, title=title, show_conditions=False, graph_engine='graphviz')
    graph = machine.get_graph()
    graph.graph_attr.update(dpi='72', rankdir='LR', nodesep='0.4', ranksep='0.6')
    graph.draw(path, prog='dot', format=path.rsplit('.', 1)[-1])
    return path

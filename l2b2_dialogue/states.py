"""Every state of the conversation as one row of a table, read by the state machine and the engine.

A row says how long the state waits (a :class:`~l2b2_dialogue.settings.Settings` field), what happens
when that time has run out, what the robot asks there (first, and again after silence or an answer it
cannot use), which buttons the visitor screen shows, and which engine method handles an utterance.
``transitions`` gets its states from the table; :data:`TRANSITIONS` names how states are left.
Adding a state is one row here, its triggers in :data:`TRANSITIONS`, and its sentences in
``config/responses_*.yaml`` (plus a handler method when it needs behaviour of its own).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """What the robot asks in a state: ``first`` (also after a language switch), ``again`` after silence.

    ``values`` names an engine method returning the sentences' placeholder values.
    """

    first: str
    again: str
    values: str = ''


@dataclass(frozen=True)
class StateSpec:
    name: str
    #: Settings field: seconds the state waits for something to happen (None: no limit).
    timeout: str | None = None
    #: Engine method run when the time-out has run out.
    on_timeout: str = ''
    #: Asked again after silence or a language switch; states with a question bound misunderstandings.
    question: Question | None = None
    #: Asked instead while the robot waits for the visitor's name (check-in).
    name_question: Question | None = None
    #: Buttons of the visitor screen: fixed values, or the engine method that lists them.
    choices: tuple[str, ...] | str = ()
    #: Engine method handling an utterance (after goodbye and staff help, which mean the same everywhere).
    hear: str = '_request'
    #: The robot talks with a visitor and waits for an answer (the greeting included).
    conversing: bool = False
    #: Nobody is being served (or the last visitor is done): an utterance opens a new conversation.
    between_visitors: bool = False
    #: An APPROACHED visitor is greeted in this state.
    greets_arrivals: bool = False
    #: The robot said goodbye: whoever speaks next begins a new conversation (a new session id).
    conversation_over: bool = False


_ANSWER = dict(timeout='answer_timeout_s', on_timeout='_ask_again_or_leave', conversing=True)

SPECS: dict[str, StateSpec] = {s.name: s for s in (
    StateSpec('idle', between_visitors=True, greets_arrivals=True),
    StateSpec('greeting', timeout='greeting_timeout_s', on_timeout='listen', conversing=True,
              question=Question('greeting', 'how_can_i_help'), choices='_listening_choices'),
    StateSpec('listening', **_ANSWER, question=Question('language_switched', 'reprompt_listening'),
              choices='_listening_choices'),
    StateSpec('clarifying', **_ANSWER, question=Question('clarify', 'reprompt_clarify', '_clarify_values'),
              choices='_clarify_choices', hear='_in_clarifying'),
    StateSpec('confirming', **_ANSWER, question=Question('confirm_escort', 'reprompt_confirm', '_offer_values'),
              choices=('yes', 'no'), hear='_in_confirming'),
    StateSpec('checkin', **_ANSWER, question=Question('checkin_ask_number', 'reprompt_checkin'),
              name_question=Question('checkin_ask_name', 'reprompt_checkin_name'), hear='_in_checkin'),
    StateSpec('ticket', **_ANSWER, question=Question('ticket_ask_target', 'reprompt_ticket'),
              choices='_ticket_choices', hear='_in_ticket'),
    StateSpec('escorting', choices=('stop',), hear='_while_escorting'),
    StateSpec('arrived', timeout='arrived_timeout_s', on_timeout='_farewell', between_visitors=True),
    StateSpec('farewell', timeout='farewell_timeout_s', on_timeout='_after_farewell', between_visitors=True,
              conversation_over=True),
    StateSpec('returning', timeout='returning_timeout_s', on_timeout='reset', between_visitors=True,
              greets_arrivals=True, conversation_over=True),
    StateSpec('staff_handoff', timeout='staff_handoff_timeout_s', on_timeout='reset',
              question=Question('staff_handoff', 'staff_handoff'), choices=('yes', 'no'), hear='_in_confirming'),
    StateSpec('takeover'),
)}

STATES = tuple(SPECS)
#: States in which the robot is talking with a visitor and waits for an answer.
CONVERSING = [s.name for s in SPECS.values() if s.conversing]
#: States after a conversation (or before one): an utterance or a touch on "start" opens a new one.
BETWEEN_VISITORS = [s.name for s in SPECS.values() if s.between_visitors]

TRANSITIONS = [
    {'trigger': 'greet', 'source': BETWEEN_VISITORS, 'dest': 'greeting'},
    {'trigger': 'listen', 'source': [*CONVERSING, *BETWEEN_VISITORS, 'staff_handoff', 'takeover', 'escorting'],
     'dest': 'listening'},
    # A visitor waiting for staff may still ask for something else (staff_handoff answers like confirming).
    {'trigger': 'clarify', 'source': [*CONVERSING, 'staff_handoff'], 'dest': 'clarifying'},
    {'trigger': 'offer', 'source': [*CONVERSING, 'staff_handoff', 'escorting'], 'dest': 'confirming'},
    {'trigger': 'ask_booking', 'source': [*CONVERSING, 'staff_handoff'], 'dest': 'checkin'},
    {'trigger': 'ask_department', 'source': [*CONVERSING, 'staff_handoff'], 'dest': 'ticket'},
    {'trigger': 'go', 'source': ['confirming', 'staff_handoff'], 'dest': 'escorting'},
    {'trigger': 'arrive', 'source': 'escorting', 'dest': 'arrived'},
    {'trigger': 'hand_off', 'source': CONVERSING, 'dest': 'staff_handoff'},
    {'trigger': 'bid_farewell', 'source': [*CONVERSING, 'arrived', 'escorting', 'staff_handoff'], 'dest': 'farewell'},
    {'trigger': 'head_home', 'source': 'farewell', 'dest': 'returning'},
    {'trigger': 'take_over', 'source': '*', 'dest': 'takeover'},
    {'trigger': 'reset', 'source': '*', 'dest': 'idle'},
]

"""What the robot observably did, turned into counts for :class:`~l2b2_office.figures.FiguresStore`.

Pure Python, no ROS: the node passes plain values and the time ``at`` (a datetime; tests pass a fake clock).
The rules, one conversation being one ``session_id`` of ``/dialogue/state``:

* **conversations**: a new non-empty ``session_id`` is one conversation, counted in the hour it starts.
* **language**: once per conversation, the language it *ended* in (the greeting is in the default language
  and the visitor's own language often shows only with their first words), counted in the hour the
  conversation started, so per hour the languages add up to the conversations. A conversation ends when the
  session id changes or becomes empty (idle), or when the recorder is closed.
* **intent**: each distinct intent of :data:`ASKED_INTENTS` once per conversation, when first seen.
* **department**: each distinct catalog target once per conversation, when first seen -- except a target
  shown together with a waiting number (the robot offering the waiting area after a check-in or ticket).
  The info desk counts when the robot offered it.
* **checkins** / **tickets**: a new ``display_number`` appearing after the dialogue was in state ``checkin``
  (resp. ``ticket``); the dialogue moves on to ``confirming`` (the waiting-area offer) in the same update.
* **not_understood**: the dialogue's "please say it again" answers (``not_understood``, ``not_understood_info``
  in ``config/responses_*.yaml``). DialogueState has no flag for it, so the node matches the dialogue's
  /speech/say sentences against those templates (:class:`NotUnderstoodMatcher`).
* **answer time**: from a visitor's utterance or touch to the dialogue's next sentence; a newer utterance
  restarts the clock (the answer answers it), and no answer within ``max_answer_s`` drops it.
* **greeted**: a person coming within greeting distance (the tracker's APPROACHED), once per track id.
* **escort**: each finished /escort goal by its outcome (succeeded, visitor_lost, failed, canceled, refused: the office took no escorts).
* **alert**: each new staff alert id once, by kind.

A latched message from before the node started (``before_start``: a restarted node receiving the dialogue
state or the alert list) is history: the conversation under way is adopted without being counted again, the
alerts listed are remembered without being counted.
Nothing of the visitor's words, names or numbers is kept, only the comparisons needed above.
"""
from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
import string
import threading
from typing import Protocol

from l2b2_common.codes import EscortOutcome
from l2b2_office.figures import ALERT_KINDS

#: Intents that say what a visitor asked for (greetings, yes/no and goodbyes are not counted).
ASKED_INTENTS = ('escort', 'appointment_checkin', 'ticket', 'opening_hours', 'staff_help', 'out_of_scope')
#: Response keys of the dialogue's "I did not understand" answers.
NOT_UNDERSTOOD_KEYS = ('not_understood', 'not_understood_info')

_ESCORT_LABEL = {EscortOutcome.ARRIVED: 'succeeded', EscortOutcome.VISITOR_LOST: 'visitor_lost',
                 EscortOutcome.CANCELED: 'canceled',
                 EscortOutcome.NOT_ACCEPTING: 'refused'}  # everything else: failed


def escort_label(outcome: int) -> str:
    """ARRIVED -> succeeded, VISITOR_LOST -> visitor_lost, CANCELED -> canceled, NOT_ACCEPTING -> refused,
    any other outcome -> failed."""
    try:
        return _ESCORT_LABEL.get(EscortOutcome(outcome), 'failed')
    except ValueError:
        return 'failed'


class Sink(Protocol):
    """Where counts go (a FiguresStore)."""

    def add(self, counter: str, label: str = '', at: datetime | None = None, n: int = 1) -> None: ...

    def add_answer_time(self, ms: float, at: datetime | None = None) -> None: ...

    def knows(self, counter: str, label: str = '') -> bool: ...


@dataclass(frozen=True)
class DialogueUpdate:
    """The parts of a DialogueState the figures need (the transcripts are not passed in at all)."""

    state: str
    session_id: str = ''
    language: str = ''
    intent: str = ''
    target_id: str = ''
    display_number: str = ''


@dataclass(frozen=True)
class AlertView:
    id: str
    kind: str
    active: bool = True
    acknowledged: bool = False


@dataclass
class _Conversation:
    id: str
    started: datetime
    counted: bool = True  # False: adopted from before the recorder started (its figures are not ours)
    language: str = ''
    intents: set[str] = field(default_factory=set)
    departments: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)


class NotUnderstoodMatcher:
    """Recognises the dialogue's "not understood" sentences by the fixed text before their first placeholder."""

    def __init__(self, templates: Iterable[str]):
        prefixes = set()
        for template in templates:
            literal = ''
            for text, name, _spec, _conv in string.Formatter().parse(template):
                literal += text
                if name is not None:
                    break
            literal = literal.strip()
            if literal:
                prefixes.add(literal)
        self.prefixes = tuple(sorted(prefixes))

    @classmethod
    def from_responses(cls, responses) -> NotUnderstoodMatcher:
        """From :class:`l2b2_dialogue.responses.Responses` (every language)."""
        return cls(lang.texts[key] for lang in responses.by_language.values() for key in NOT_UNDERSTOOD_KEYS
                   if key in lang.texts)

    def __call__(self, sentence: str) -> bool:
        text = sentence.strip()
        return any(text.startswith(p) for p in self.prefixes)


class FiguresRecorder:
    """A small state machine: the current conversation, the pending utterance, the people and alerts seen."""

    def __init__(self, sink: Sink, *, max_answer_s: float = 20.0, remember_people: int = 1000):
        self.sink = sink
        self.max_answer_s = max_answer_s
        self._lock = threading.RLock()
        self._conversation: _Conversation | None = None
        self._previous_state = ''
        self._heard_at: datetime | None = None
        self._people: OrderedDict[int, None] = OrderedDict()
        self._remember_people = remember_people
        self._alerts_seen: OrderedDict[str, None] = OrderedDict()
        self.active_alerts: dict[str, int] | None = None
        #: Inputs taken, by method name (for tests and diagnostics: no values, only how many).
        self.seen: Counter[str] = Counter()

    # -- dialogue ----------------------------------------------------------------------------------------------
    def dialogue(self, update: DialogueUpdate, at: datetime, before_start: bool = False) -> None:
        """A /dialogue/state message (``before_start``: published before the node started)."""
        with self._lock:
            self.seen['dialogue'] += 1
            c = self._conversation
            if c is None or update.session_id != c.id:
                self._end_conversation()
                c = None
                if update.session_id:
                    c = self._conversation = _Conversation(update.session_id, at, counted=not before_start)
                    if c.counted:
                        self.sink.add('conversations', at=at)
            if c is not None:
                self._follow(c, update, at)
            self._previous_state = update.state

    def _follow(self, c: _Conversation, u: DialogueUpdate, at: datetime) -> None:
        if u.language and self.sink.knows('language', u.language):
            c.language = u.language
        count = c.counted
        if u.intent in ASKED_INTENTS and u.intent not in c.intents:
            c.intents.add(u.intent)
            if count:
                self.sink.add('intent', u.intent, at=at)
        if u.target_id and not u.display_number and u.target_id not in c.departments \
                and self.sink.knows('department', u.target_id):
            c.departments.add(u.target_id)
            if count:
                self.sink.add('department', u.target_id, at=at)
        if u.display_number and u.display_number not in c.numbers:
            c.numbers.add(u.display_number)  # compared only within this conversation, never stored
            kind = {'checkin': 'checkins', 'ticket': 'tickets'}.get(self._previous_state) or \
                {'appointment_checkin': 'checkins', 'ticket': 'tickets'}.get(u.intent)
            if kind and count:
                self.sink.add(kind, at=at)

    def _end_conversation(self) -> None:
        c, self._conversation = self._conversation, None
        if c is not None and c.counted and c.language:
            self.sink.add('language', c.language, at=c.started)

    # -- speech --------------------------------------------------------------------------------------------------
    def visitor_spoke(self, at: datetime) -> None:
        """An utterance (/speech/recognized) or a touch (/visitor/input): the answer clock starts."""
        with self._lock:
            self.seen['visitor_spoke'] += 1
            self._heard_at = at

    def robot_said(self, at: datetime, not_understood: bool = False) -> None:
        """The dialogue said something (/speech/say): an answer, and perhaps a "not understood"."""
        with self._lock:
            self.seen['robot_said'] += 1
            if not_understood:
                self.sink.add('not_understood', at=at)
            heard, self._heard_at = self._heard_at, None
            if heard is not None:
                seconds = (at - heard).total_seconds()
                if 0.0 <= seconds <= self.max_answer_s:
                    self.sink.add_answer_time(seconds * 1000.0, at=heard)

    # -- people, escorts, alerts ---------------------------------------------------------------------------------
    def person_approached(self, person_id: int, at: datetime) -> None:
        """The tracker's APPROACHED: one visitor greeted (a track coming back is not counted twice)."""
        with self._lock:
            self.seen['person_approached'] += 1
            if person_id in self._people:
                self._people.move_to_end(person_id)
                return
            self._people[person_id] = None
            while len(self._people) > self._remember_people:
                self._people.popitem(last=False)
            self.sink.add('greeted', at=at)

    def escort_finished(self, outcome: int, at: datetime) -> None:
        """An /escort goal ended with this EscortOutcome."""
        with self._lock:
            self.seen['escort_finished'] += 1
            self.sink.add('escort', escort_label(outcome), at=at)

    def alerts(self, alerts: Iterable[AlertView], at: datetime, before_start: bool = False) -> None:
        """An /office/alerts message: new alert ids are counted by kind (not those listed ``before_start``);
        those still active are kept for the gauge."""
        with self._lock:
            self.seen['alerts'] += 1
            alerts = list(alerts)
            active: dict[str, int] = {}
            for alert in alerts:
                kind = alert.kind if alert.kind in ALERT_KINDS else 'other'
                if alert.active:
                    active[kind] = active.get(kind, 0) + 1
                if alert.id in self._alerts_seen:
                    continue
                self._alerts_seen[alert.id] = None
                if not before_start:
                    self.sink.add('alert', kind, at=at)
            while len(self._alerts_seen) > 10000:
                self._alerts_seen.popitem(last=False)
            self.active_alerts = active

    def close(self) -> None:
        """Count the language of the conversation under way (the node is stopping)."""
        with self._lock:
            self._end_conversation()

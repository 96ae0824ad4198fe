"""Which sentence the robot speaks next, and when a new one cuts the current one short.

Policy (documented in docs/speech.md):
- SAFETY interrupts whatever is playing, drops everything queued except other safety sentences, and
  goes first. During an emergency stop only SAFETY sentences are accepted.
- HIGH cuts an *interruptible* current sentence short and goes before all NORMAL ones.
- NORMAL queues after what is playing and queued (FIFO): consecutive dialogue sentences are all
  spoken, in order. ``interruptible`` only allows the visitor (barge-in) or a HIGH request to cut it.
- A sentence of a new conversation (another non-empty ``conversation``) drops the sentences still
  queued of earlier conversations and cuts one of them short that is playing: the next visitor never
  hears (or reads on the screen) the last visitor's waiting number. Staff and safety sentences carry no
  conversation and are never dropped this way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import itertools

NORMAL, HIGH, SAFETY = 0, 1, 2


@dataclass(frozen=True)
class Utterance:
    utterance_id: str
    text: str
    language: str
    priority: int = NORMAL
    interruptible: bool = True
    conversation: str = ''


@dataclass
class SayQueue:
    pending: list[tuple[int, int, Utterance]] = field(default_factory=list)
    current: Utterance | None = None
    estop: bool = False
    conversation: str = ''  # the newest conversation a sentence came from
    _seq: itertools.count = field(default_factory=itertools.count)

    def submit(self, u: Utterance) -> tuple[bool, bool]:
        """Queue ``u``; returns (accepted, interrupt_current)."""
        if self.estop and u.priority < SAFETY:
            return False, False
        interrupt = False
        if u.conversation and u.conversation != self.conversation:
            self.conversation = u.conversation
            self.pending = [p for p in self.pending if not self._earlier(p[2])]
            interrupt = self.current is not None and self._earlier(self.current)
        if u.priority >= SAFETY:
            self.pending = [p for p in self.pending if p[2].priority >= SAFETY]
            interrupt = self.current is not None and self.current.priority < SAFETY
        elif u.priority == HIGH:
            interrupt = interrupt or (self.current is not None and self.current.interruptible
                                      and self.current.priority <= HIGH)
        self.pending.append((-u.priority, next(self._seq), u))
        self.pending.sort(key=lambda p: (p[0], p[1]))
        return True, interrupt

    def _earlier(self, u: Utterance) -> bool:
        """``u`` belongs to a conversation before the newest one (and is no safety sentence)."""
        return bool(u.conversation) and u.conversation != self.conversation and u.priority < SAFETY

    def barge_in_allowed(self) -> bool:
        return self.current is not None and self.current.interruptible and self.current.priority < SAFETY

    def take(self) -> Utterance | None:
        self.current = self.pending.pop(0)[2] if self.pending else None
        return self.current

    def done(self) -> None:
        self.current = None

    def clear(self) -> None:
        self.pending.clear()

    def set_estop(self, active: bool) -> bool:
        """Returns True when the stop was just engaged (the caller silences the robot)."""
        engaged = active and not self.estop
        self.estop = active
        if engaged:
            self.pending = [p for p in self.pending if p[2].priority >= SAFETY]
        return engaged

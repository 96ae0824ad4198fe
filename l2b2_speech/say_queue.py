"""Which sentence the robot speaks next, and when a new one cuts the current one short.

Policy (documented in docs/speech.md):
- SAFETY interrupts whatever is playing, drops everything queued except other safety sentences, and
  goes first. During an emergency stop only SAFETY sentences are accepted.
- HIGH cuts an *interruptible* current sentence short and goes before all NORMAL ones.
- NORMAL queues after what is playing and queued (FIFO): consecutive dialogue sentences are all
  spoken, in order. ``interruptible`` only allows the visitor (barge-in) or a HIGH request to cut it.
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


@dataclass
class SayQueue:
    pending: list[tuple[int, int, Utterance]] = field(default_factory=list)
    current: Utterance | None = None
    estop: bool = False
    _seq: itertools.count = field(default_factory=itertools.count)

    def submit(self, u: Utterance) -> tuple[bool, bool]:
        """Queue ``u``; returns (accepted, interrupt_current)."""
        if self.estop and u.priority < SAFETY:
            return False, False
        interrupt = False
        if u.priority >= SAFETY:
            self.pending = [p for p in self.pending if p[2].priority >= SAFETY]
            interrupt = self.current is not None and self.current.priority < SAFETY
        elif u.priority == HIGH:
            interrupt = (self.current is not None and self.current.interruptible
                         and self.current.priority <= HIGH)
        self.pending.append((-u.priority, next(self._seq), u))
        self.pending.sort(key=lambda p: (p[0], p[1]))
        return True, interrupt

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

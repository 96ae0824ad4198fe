"""What the engine asks the node to do (effects) and what it shows (the snapshot behind DialogueState).

Effects are plain values: the engine never waits on one. The node carries each out and reports its
outcome back as another event (``lookup_done``, ``escort_done``, ...).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    text: str
    language: str
    key: str
    #: The conversation (session id) it belongs to: a new one drops what is still queued of an earlier one.
    conversation: str = ''


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


@dataclass(frozen=True)
class TellStaff:
    """Staff should look: the node logs a warning and shows ``message`` on /l2b2/health for ``hold_s``.

    Never visitor data in ``message`` (no booking number, no name)."""

    message: str
    hold_s: float = 0.0


Effect = Say | StartEscort | CancelEscort | LookupAppointment | CheckIn | DrawTicket | TellStaff


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

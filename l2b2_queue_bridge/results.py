"""What the queue client is given and what it answers: the catalog target it serves (``TargetScope``) and the
frozen result values of a look-up, check-in, ticket draw and status poll.

Kept apart from ``client`` so the ROS node and the tests can build and read these plain values without the
client's logic, and so ``client`` stays about behaviour. No ROS import.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from l2b2_common.codes import QueueResult


@dataclass(frozen=True)
class TargetScope:
    """A catalog target that has a queue in the appointment system."""

    target_id: str
    scope_id: int | None
    printer_hash: str | None = None
    is_open: Callable[[datetime], bool] = field(default=lambda _when: True, compare=False)


@dataclass(frozen=True)
class AppointmentView:
    """``services``: catalog service ids where the catalog knows the system's service, else its name."""

    booking_number: str
    status: str
    appointment_time: str
    target_id: str
    scope_id: int
    services: tuple[str, ...]
    display_number: str


@dataclass(frozen=True)
class LookupResult:
    code: QueueResult
    message: str
    appointment: AppointmentView | None = None


@dataclass(frozen=True)
class CheckInResult:
    code: QueueResult
    message: str
    appointment: AppointmentView | None = None
    #: 1 = next to be called; -1 = unknown (queue not readable).
    waiting_position: int = -1
    estimated_wait_minutes: int = -1


@dataclass(frozen=True)
class TicketResult:
    code: QueueResult
    message: str
    display_number: str = ''
    #: People waiting ahead of this ticket; -1 = unknown.
    waiting_count: int = -1
    estimated_wait_minutes: int = -1


@dataclass(frozen=True)
class QueueView:
    target_id: str
    scope_id: int
    available: bool
    waiting_count: int = -1
    estimated_wait_minutes: int = -1


@dataclass(frozen=True)
class StatusResult:
    code: QueueResult
    message: str
    queues: tuple[QueueView, ...] = ()

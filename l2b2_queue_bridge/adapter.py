"""What the robot needs from any appointment system, and the results the dialogue can say.

An adapter (e.g. :class:`~l2b2_queue_bridge.zms_adapter.ZmsAdapter`) turns one system's API into
these calls; it raises :class:`QueueError` with a ``QueueResult`` for everything that went wrong, so
every failure ends as a code the dialogue can turn into a sentence. No ROS import here.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime

from l2b2_common.codes import QueueResult


class QueueError(Exception):
    """A call failed; ``code`` says how, ``message`` is a short technical English reason (no personal data).

    ``reason``: the system's own name for the error (ZMS: the exception class, e.g. ``ProcessNotCallable``),
    ``data``: what the system sent with it (ZMS: e.g. ``{"processId": ..., "status": "called"}``).
    """

    def __init__(self, code: QueueResult, message: str, reason: str = '', data: dict | None = None):
        super().__init__(f'{code.name}: {message}')
        self.code = code
        self.message = message
        self.reason = reason
        self.data = data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class Process:
    """A booking or a drawn waiting number (ZMS calls both a process)."""

    process_id: int
    status: str
    scope_id: int | None = None
    appointment_time: datetime | None = None
    #: Service names and the system's ids for them (ZMS request ids), in the same order.
    services: tuple[str, ...] = ()
    service_ids: tuple[str, ...] = ()
    display_number: str = ''
    #: The number the queue and call displays show (the process id for appointments in ZMS).
    queue_number: str = ''
    #: Personal data: compared, never logged.
    client_names: tuple[str, ...] = field(default=(), repr=False)
    auth_key: str = field(default='', repr=False)
    raw: dict = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True)
class QueueEntry:
    """One line of a scope's waiting queue (ZMS ``queue`` entity)."""

    number: str
    status: str
    arrival_time: float = 0.0
    waiting_time_estimate: int = 0
    with_appointment: bool = False
    display_number: str = ''


#: Statuses of a process that has arrived and is in (or past) the waiting queue.
ARRIVED_STATUSES = frozenset({'queued', 'called', 'processing', 'pending', 'pickup', 'parked'})
#: Entries of a queue list that stand for a person waiting to be called.
WAITING_STATUSES = frozenset({'queued'})


class QueueSystemAdapter(ABC):
    """The calls the bridge makes; one implementation per appointment system."""

    @abstractmethod
    def get_process(self, process_id: int, auth_key: str | None) -> Process:
        """A booking by number; with ``auth_key`` as the visitor, without it with the staff key."""

    @abstractmethod
    def mark_arrived(self, process: Process) -> Process:
        """Tell the system the visitor has arrived (check-in); returns the updated process."""

    @abstractmethod
    def draw_waiting_number(self, scope_id: int, printer_hash: str, idempotency_key: str) -> Process:
        """Draw a waiting number; the same ``idempotency_key`` must never yield two numbers."""

    @abstractmethod
    def get_queue(self, scope_id: int) -> list[QueueEntry]:
        """The scope's queue for today, in calling order."""

    @abstractmethod
    def availability(self) -> tuple[bool, str]:
        """(reachable as far as we know, reason) — cheap, makes no call."""

    def probe(self) -> None:  # noqa: B027 - optional hook
        """Check the system is reachable (raises QueueError when not); default: nothing to check."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""

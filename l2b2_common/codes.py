"""Result codes, outcomes and levels as IntEnums: one name per number, beside the interfaces that define them.

The numbers are the constants of ``l2b2_interfaces`` (.srv/.action/.msg); this module keeps them free of
ROS imports so that pure logic (dialogue engine, escort policy, panel state) can name them.
``test/l2b2_common/test_codes.py`` compares every member with the interface constants both ways.
"""
from __future__ import annotations

from enum import IntEnum


class QueueResult(IntEnum):
    """``result`` of the /queue/* services (LookupAppointment, CheckIn, DrawTicket, GetQueueStatus)."""

    OK = 0
    NOT_FOUND = 1
    FORBIDDEN = 2
    UNAVAILABLE = 3
    INVALID = 4
    ERROR = 5
    TOO_EARLY = 6
    TOO_LATE = 7
    ALREADY_CHECKED_IN = 8
    CLOSED = 9


class EscortOutcome(IntEnum):
    """``outcome`` of the Escort action's result."""

    ARRIVED = 0
    UNKNOWN_TARGET = 1
    VISITOR_LOST = 2
    NAVIGATION_FAILED = 3
    CANCELED = 4
    ESTOPPED = 5
    BUSY = 6
    #: New visitor escorts are not taken now (/office/status accepting_escorts false: low battery, closing,
    #: staff dock-now, ...); the result message names the office's reason.
    NOT_ACCEPTING = 7


class VisitorStatus(IntEnum):
    """``visitor_status`` of the Escort action's feedback."""

    VISITOR_NONE = 0
    VISITOR_FOLLOWING = 1
    VISITOR_FALLING_BEHIND = 2
    VISITOR_LOST = 3


class HealthLevel(IntEnum):
    """``level`` of ComponentHealth on /l2b2/health."""

    OK = 0
    DEGRADED = 1
    ERROR = 2
    STALE = 3

"""Every IntEnum member equals the interface constant of the same name, and every constant has a member."""
from __future__ import annotations

from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth
from l2b2_interfaces.srv import CheckIn, DrawTicket, GetQueueStatus, LookupAppointment
import pytest

from l2b2_common.codes import EscortOutcome, HealthLevel, QueueResult, VisitorStatus


def _constants(cls) -> dict[str, int]:
    """The uppercase integer constants rosidl generates on a message class."""
    return {name: getattr(cls, name) for name in dir(cls)
            if name.isupper() and not name.startswith('_') and isinstance(getattr(cls, name), int)}


@pytest.mark.parametrize('interface', [LookupAppointment.Response, CheckIn.Response, DrawTicket.Response,
                                       GetQueueStatus.Response])
def test_queue_results_match_every_service(interface):
    constants = _constants(interface)
    assert constants, f'{interface.__name__} has no result constants'
    for name, value in constants.items():
        assert QueueResult[name] == value, name


def test_queue_result_members_all_exist_in_some_service():
    defined = {}
    for interface in (LookupAppointment.Response, CheckIn.Response, DrawTicket.Response, GetQueueStatus.Response):
        defined.update(_constants(interface))
    assert {m.name: m.value for m in QueueResult} == defined


def test_escort_outcomes_and_visitor_status_match_the_action():
    assert {m.name: m.value for m in EscortOutcome} == _constants(Escort.Result)
    assert {m.name: m.value for m in VisitorStatus} == _constants(Escort.Feedback)


def test_health_levels_match_the_message():
    assert {m.name: m.value for m in HealthLevel} == _constants(ComponentHealth)

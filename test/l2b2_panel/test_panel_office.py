"""The office day on the panel (issue 16): the real panel node against a real rclpy stand-in of the office node.

The stand-in publishes l2b2_interfaces/msg/OfficeStatus on /office/status (latched) and serves
/office/stay_out (SetBool), /office/dock_now and /office/clear_fault (Trigger), recording each call.
Staff see the whole status and may override (staff only, CSRF, audited); the visitor screen gets only
whether the office is open, when it opens again and whether the robot escorts.
"""
from __future__ import annotations

import json
import math

from l2b2_interfaces.msg import OfficeStatus
import pytest
from std_srvs.srv import SetBool, Trigger

from l2b2_common.qos import LATCHED
from l2b2_panel.robot_bridge import (
    OFFICE_CLEAR_FAULT_SERVICE,
    OFFICE_DOCK_NOW_SERVICE,
    OFFICE_STATUS_TOPIC,
    OFFICE_STAY_OUT_SERVICE,
)
from l2b2_panel.state import PanelState
from l2b2_panel.views import clean_office

from .test_panel_ros import WsClient, ws_url

NEXT_OPENING = '2026-12-07T07:30:00+01:00'


def office_status(**fields) -> OfficeStatus:
    values = dict(phase='open', accepting_escorts=True, reason='', next_opening=NEXT_OPENING,
                  office_closes_at='2026-12-05T12:00:00+01:00', docked=False, action='', busy=False,
                  battery_percent=64.5, charging=False, time_to_full_s=math.nan, override='', fault='',
                  alerts=[], screen=[])
    values.update(fields)
    return OfficeStatus(**values)


class OfficeStandIn:
    """The office node's interface: publish a status, answer the three staff services (and remember them)."""

    def __init__(self, ros):
        self.node = ros.node('office_stand_in')
        self.pub = self.node.create_publisher(OfficeStatus, OFFICE_STATUS_TOPIC, LATCHED)
        self.calls: list[tuple] = []
        self.node.create_service(SetBool, OFFICE_STAY_OUT_SERVICE, self._on_stay_out)
        self.node.create_service(Trigger, OFFICE_DOCK_NOW_SERVICE, self._on_trigger('dock_now'))
        self.node.create_service(Trigger, OFFICE_CLEAR_FAULT_SERVICE, self._on_trigger('clear_fault'))

    def _on_stay_out(self, request, response):
        self.calls.append(('stay_out', request.data))
        response.success = True
        response.message = 'staying out until released' if request.data else 'override released'
        return response

    def _on_trigger(self, name: str):
        def answer(_request, response):
            self.calls.append((name,))
            response.success, response.message = True, f'{name} done'
            return response
        return answer

    def publish(self, msg: OfficeStatus) -> None:
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self.pub.publish(msg)


@pytest.fixture
def office(ros):
    return OfficeStandIn(ros)


def staff_office(panel):
    return panel.state.staff_snapshot(0.0)['office']


def services_ready(panel) -> bool:
    b = panel.bridge
    return all(c.service_is_ready() for c in (b.cli_stay_out, b.cli_dock_now, b.cli_clear_fault))


def test_staff_see_the_office_day_and_the_visitor_screen_only_what_visitors_need(ros, panel, http, office):
    assert staff_office(panel) is None and panel.state.visitor_snapshot(0.0)['office'] is None
    office.publish(office_status(phase='closed', accepting_escorts=False, reason='office_closed', docked=True,
                                 battery_percent=41.26, charging=True, time_to_full_s=4800.0, override='stay_out',
                                 fault='dock_failed', alerts=['dock_failed'],
                                 screen=['office_closed', 'next_opening', 'pickup_terminal_always_open']))
    ros.wait_for(lambda: (staff_office(panel) or {}).get('phase') == 'closed', 10, 'office status in the snapshot')
    assert staff_office(panel) == {
        'phase': 'closed', 'accepting_escorts': False, 'reason': 'office_closed', 'next_opening': NEXT_OPENING,
        'office_closes_at': '2026-12-05T12:00:00+01:00', 'docked': True, 'action': None, 'busy': False,
        'battery_percent': pytest.approx(41.3), 'charging': True, 'time_to_full_s': 4800.0, 'override': 'stay_out',
        'fault': 'dock_failed', 'alerts': ['dock_failed'],
        'screen': ['office_closed', 'next_opening', 'pickup_terminal_always_open']}

    client = http(panel.url)
    assert client.login() == 200
    staff = WsClient(ws_url(panel, '/ws/staff'), client.cookie)
    visitor = WsClient(ws_url(panel, '/ws/visitor'))
    try:
        ros.wait_for(lambda: any((s.get('office') or {}).get('time_to_full_s') == 4800.0 for s in staff.states()),
                     10, 'office pushed to the staff page')
        ros.wait_for(lambda: any((s.get('office') or {}).get('phase') == 'closed' for s in visitor.states()),
                     10, 'office pushed to the visitor screen')
    finally:
        staff.close()
        visitor.close()
    seen = [s['office'] for s in visitor.states() if s.get('office')]
    assert seen[-1] == {'phase': 'closed', 'next_opening': NEXT_OPENING, 'office_closes_at': '2026-12-05T12:00:00+01:00',
                        'accepting_escorts': False,
                        'screen': ['office_closed', 'next_opening', 'pickup_terminal_always_open']}
    # Nothing of the staff's: no battery, no override, no fault, no alerts.
    text = json.dumps(visitor.received) + json.dumps(panel.state.visitor_snapshot(0.0))
    for staff_only in ('battery', 'charging', 'time_to_full', 'override', 'stay_out', 'fault', 'dock_failed',
                       'reason', 'alerts', 'docked'):
        assert staff_only not in text, staff_only

    # NaN (not charging, no reading yet) is None, never NaN in the JSON; '' is None, the day cycle's 'none' too.
    office.publish(office_status(battery_percent=math.nan, time_to_full_s=math.nan, override='none'))
    ros.wait_for(lambda: staff_office(panel)['phase'] == 'open', 10, 'the next status')
    shown = staff_office(panel)
    assert shown['battery_percent'] is None and shown['time_to_full_s'] is None and shown['override'] is None
    assert shown['reason'] is None and shown['fault'] is None and shown['accepting_escorts'] is True
    assert 'NaN' not in json.dumps(panel.state.staff_snapshot(0.0))


def test_the_controls_call_the_office_services_and_are_audited(ros, panel, http, office):
    office.publish(office_status())
    ros.wait_for(lambda: staff_office(panel) is not None, 10, 'office status')
    ros.wait_for(lambda: services_ready(panel), 15, 'the office services')
    client = http(panel.url)
    assert client.login() == 200
    for name, body, call, action, message in [
            ('stay_out', {'enable': True}, ('stay_out', True), 'stay_out', 'staying out until released'),
            ('stay_out', {'enable': False}, ('stay_out', False), 'release_override', 'override released'),
            ('dock_now', {}, ('dock_now',), 'dock_now', 'dock_now done'),
            ('clear_fault', {}, ('clear_fault',), 'clear_fault', 'clear_fault done')]:
        status, payload, _ = client.request('POST', f'/api/control/{name}', body)
        assert status == 200 and payload == {'ok': True, 'message': message}, (name, payload)
        assert office.calls[-1] == call
        entry = panel.audit.recent()[-1]
        assert {k: v for k, v in entry.items() if k != 'time'} == {'user': 'staff', 'action': action, 'result': True}
    assert len(office.calls) == 4
    # An empty POST body is an empty object: dock now needs nothing more.
    status, _, _ = client.request('POST', '/api/control/dock_now', None)
    assert status == 200 and office.calls[-1] == ('dock_now',)


@pytest.mark.parametrize(('name', 'body', 'says'), [
    ('stay_out', {}, '"enable" is required'),
    ('stay_out', {'enable': 1}, '"enable"'),
    ('stay_out', {'enable': True, 'until': '18:00'}, 'unknown field "until"'),
    ('dock_now', {'now': True}, 'unknown field "now"'),
    ('clear_fault', [1], 'JSON object'),
])
def test_a_bad_body_is_a_clear_400_and_nothing_is_called(ros, panel, http, office, name, body, says):
    ros.wait_for(lambda: services_ready(panel), 15, 'the office services')
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', f'/api/control/{name}', body)
    assert status == 400 and payload['error'].startswith(name) and says in payload['error'], payload
    assert office.calls == [] and [e['action'] for e in panel.audit.recent()] == ['login']


def test_only_staff_with_csrf_override(ros, panel, http, office):
    ros.wait_for(lambda: services_ready(panel), 15, 'the office services')
    assert http(panel.url).request('POST', '/api/control/dock_now', {})[0] == 401
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    observer = http(panel.url)
    assert observer.login('olaf', 'only watching') == 200
    for name, body in (('stay_out', {'enable': True}), ('dock_now', {}), ('clear_fault', {})):
        status, payload, _ = observer.request('POST', f'/api/control/{name}', body)
        assert status == 403 and 'observers' in payload['error']
    client = http(panel.url)
    assert client.login() == 200
    client.csrf = 'wrong'
    assert client.request('POST', '/api/control/stay_out', {'enable': True})[0] == 403
    assert office.calls == []
    assert [e['action'] for e in panel.audit.recent()] == ['login', 'login']


def test_without_the_office_node_the_override_says_so(ros, panel, http):
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', '/api/control/stay_out', {'enable': True})
    assert status == 503 and not payload['ok'] and 'office is not available' in payload['message']
    entry = panel.audit.recent()[-1]
    assert entry['action'] == 'stay_out' and entry['result'] is False


def test_the_same_status_again_pushes_nothing():
    state = PanelState()
    status = {'phase': 'open', 'accepting_escorts': True, 'reason': '', 'next_opening': NEXT_OPENING,
              'office_closes_at': '', 'battery_percent': 80.0, 'charging': False, 'time_to_full_s': None,
              'override': '', 'fault': '', 'alerts': [], 'screen': []}
    state.update_office(status, 1.0)
    seq = state.seq
    state.update_office(dict(status), 2.0)
    assert state.seq == seq and state.online(2.5)
    state.update_office({**status, 'charging': True, 'time_to_full_s': 600.0}, 3.0)
    assert state.seq > seq and state.staff_snapshot(3.0)['office']['time_to_full_s'] == 600.0
    assert clean_office({})['phase'] == 'starting' and clean_office({'fault': 'x' * 500})['fault'] == 'x' * 64

"""Staff alerts on the panel (issue 16): the real panel node against a real rclpy stand-in of the alerts node.

The stand-in publishes l2b2_interfaces/msg/StaffAlerts on /office/alerts (latched) and serves
/office/acknowledge_alert, recording each request. The panel shows the alerts to logged-in staff only,
acknowledges through the service with the logged-in user's name, and audits that without visitor data.
"""
from __future__ import annotations

import json
import time

from builtin_interfaces.msg import Time
from l2b2_interfaces.msg import StaffAlert, StaffAlerts
from l2b2_interfaces.srv import AcknowledgeAlert
import pytest

from l2b2_common.qos import LATCHED
from l2b2_panel.robot_bridge import ALERT_ACK_SERVICE, ALERTS_TOPIC
from l2b2_panel.state import ALERT_HISTORY, PanelState

from .test_panel_ros import WsClient, ws_url


def alert(alert_id: str, kind: str, *, severity: int = StaffAlert.CRITICAL, source: str = 'safety_gate',
          raised: float | None = None, active: bool = True, acknowledged_by: str = '') -> StaffAlert:
    raised = time.time() if raised is None else raised
    msg = StaffAlert(id=alert_id, kind=kind, severity=severity, source=source, text=f'{kind} ({source}).',
                     raised=Time(sec=int(raised), nanosec=int((raised % 1) * 1e9)), active=active,
                     acknowledged=bool(acknowledged_by), acknowledged_by=acknowledged_by)
    if acknowledged_by:
        msg.acknowledged_at = Time(sec=int(time.time()))
    return msg


class AlertsStandIn:
    """The alerts node's interface: publish a list, answer acknowledgements (and remember them)."""

    def __init__(self, ros, *, service: bool = True):
        self.node = ros.node('alerts_stand_in')
        self.pub = self.node.create_publisher(StaffAlerts, ALERTS_TOPIC, LATCHED)
        self.requests: list[tuple[str, str]] = []
        self.answer = (True, 'acknowledged')
        if service:
            self.node.create_service(AcknowledgeAlert, ALERT_ACK_SERVICE, self._on_ack)

    def _on_ack(self, request, response):
        self.requests.append((request.id, request.user))
        response.success, response.message = self.answer
        return response

    def publish(self, *alerts: StaffAlert) -> None:
        msg = StaffAlerts(alerts=list(alerts))
        msg.header.stamp = self.node.get_clock().now().to_msg()
        self.pub.publish(msg)


def shown_ids(panel) -> list[str]:
    return [a['id'] for a in panel.state.staff_snapshot(0.0)['alerts']]


@pytest.fixture
def alerts(ros):
    return AlertsStandIn(ros)


def test_staff_see_alerts_and_acknowledge_them_by_name(ros, panel, http, alerts):
    raised = time.time() - 30.0
    alerts.publish(alert('estop-3', 'estop', raised=raised),
                   alert('visitor_lost-2', 'visitor_lost', severity=StaffAlert.WARNING, source='escort',
                         raised=raised - 60.0))
    ros.wait_for(lambda: shown_ids(panel) == ['estop-3', 'visitor_lost-2'], 10, 'alerts in the staff snapshot')
    first = panel.state.staff_snapshot(0.0)['alerts'][0]
    assert first == {'id': 'estop-3', 'kind': 'estop', 'severity': 2, 'source': 'safety_gate',
                     'raised': pytest.approx(raised, abs=1e-3), 'active': True, 'acknowledged': False,
                     'acknowledged_by': '', 'acknowledged_at': None}
    assert 'text' not in first  # the page translates by kind; the English text is not passed on

    client = http(panel.url)
    assert client.login() == 200
    staff = WsClient(ws_url(panel, '/ws/staff'), client.cookie)
    try:
        ros.wait_for(lambda: any([a['id'] for a in s['alerts']] == ['estop-3', 'visitor_lost-2']
                                 for s in staff.states()), 10, 'alerts pushed to the staff page')
    finally:
        staff.close()

    ros.wait_for(lambda: panel.bridge.cli_ack_alert.service_is_ready(), 15, '/office/acknowledge_alert')
    status, payload, _ = client.request('POST', '/api/control/ack_alert', {'id': 'estop-3'})
    assert status == 200 and payload['ok'] and payload['message'] == 'acknowledged', payload
    assert alerts.requests == [('estop-3', 'staff')]  # the logged-in user, not a name from the body
    entry = panel.audit.recent()[-1]
    assert {k: v for k, v in entry.items() if k != 'time'} == {
        'user': 'staff', 'action': 'acknowledge_alert', 'target_id': 'estop-3', 'result': True}
    on_disk = panel.audit.path.read_text(encoding='utf-8').splitlines()
    assert json.loads(on_disk[-1]) == entry

    # The node answers with the acknowledged list: the stop is still engaged, so it stays (silently).
    alerts.publish(alert('estop-3', 'estop', raised=raised, acknowledged_by='staff'),
                   alert('visitor_lost-2', 'visitor_lost', severity=StaffAlert.WARNING, source='escort',
                         raised=raised - 60.0))
    ros.wait_for(lambda: panel.state.staff_snapshot(0.0)['alerts'][0]['acknowledged_by'] == 'staff', 10,
                 'acknowledgement shown')
    # A refusal by the alerts node is the page's error, and audited as such.
    alerts.answer = (False, 'no alert with that id')
    status, payload, _ = client.request('POST', '/api/control/ack_alert', {'id': 'visitor_lost-2'})
    assert status == 503 and not payload['ok'] and payload['message'] == 'no alert with that id'
    assert panel.audit.recent()[-1]['result'] is False


@pytest.mark.parametrize(('body', 'says'), [
    ({}, '"id" is required'),
    ({'id': 7}, '"id"'),
    ({'id': 'estop-3', 'user': 'boss'}, 'unknown field "user"'),  # the name is the session's, never the body's
    ({'id': 'Erika Mustermann 4711'}, 'alert id'),
    ([1], 'JSON object'),
])
def test_a_bad_acknowledgement_is_a_clear_400(ros, panel, http, alerts, body, says):
    alerts.publish(alert('estop-3', 'estop'))
    ros.wait_for(lambda: shown_ids(panel) == ['estop-3'], 10, 'alert shown')
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', '/api/control/ack_alert', body)
    assert status == 400 and payload['error'].startswith('ack_alert') and says in payload['error'], payload
    assert alerts.requests == [] and [e['action'] for e in panel.audit.recent()] == ['login']


def test_only_staff_acknowledge_shown_alerts_with_csrf(ros, panel, http, alerts):
    alerts.publish(alert('battery_critical-5', 'battery_critical', source='battery'))
    ros.wait_for(lambda: shown_ids(panel) == ['battery_critical-5'], 10, 'alert shown')
    ros.wait_for(lambda: panel.bridge.cli_ack_alert.service_is_ready(), 15, '/office/acknowledge_alert')
    assert http(panel.url).request('POST', '/api/control/ack_alert', {'id': 'battery_critical-5'})[0] == 401
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    observer = http(panel.url)
    assert observer.login('olaf', 'only watching') == 200
    status, payload, _ = observer.request('POST', '/api/control/ack_alert', {'id': 'battery_critical-5'})
    assert status == 403 and 'observers' in payload['error']
    # Observers see the alerts (they may call someone), they only cannot acknowledge them.
    ws = WsClient(ws_url(panel, '/ws/staff'), observer.cookie)
    try:
        ros.wait_for(lambda: any(s['alerts'] for s in ws.states()), 10, 'observer sees the alert')
    finally:
        ws.close()
    client = http(panel.url)
    assert client.login() == 200
    csrf, client.csrf = client.csrf, ''
    assert client.request('POST', '/api/control/ack_alert', {'id': 'battery_critical-5'})[0] == 403
    client.csrf = csrf
    status, payload, _ = client.request('POST', '/api/control/ack_alert', {'id': 'stuck-99'})
    assert status == 400 and 'stuck-99' in payload['error']  # not on the list: nothing to acknowledge
    assert alerts.requests == []
    assert client.request('POST', '/api/control/ack_alert', {'id': 'battery_critical-5'})[0] == 200
    assert alerts.requests == [('battery_critical-5', 'staff')]


def test_without_the_alerts_node_the_acknowledgement_says_so(ros, panel, http):
    alerts = AlertsStandIn(ros, service=False)
    alerts.publish(alert('queue_down-1', 'queue_down', severity=StaffAlert.WARNING, source='queue_bridge'))
    ros.wait_for(lambda: shown_ids(panel) == ['queue_down-1'], 10, 'alert shown')
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', '/api/control/ack_alert', {'id': 'queue_down-1'})
    assert status == 503 and not payload['ok'] and 'alert service is not available' in payload['message']
    assert panel.audit.recent()[-1]['action'] == 'acknowledge_alert' and panel.audit.recent()[-1]['result'] is False


def test_the_visitor_screen_never_gets_alerts(ros, panel, http, alerts):
    visitor = WsClient(ws_url(panel, '/ws/visitor'))
    try:
        ros.wait_for(lambda: visitor.states(), 10, 'first visitor state')
        alerts.publish(alert('visitor_lost-7', 'visitor_lost', severity=StaffAlert.WARNING, source='escort'),
                       alert('checkin_failures-6', 'checkin_failures', severity=StaffAlert.WARNING,
                             source='dialogue'))
        ros.wait_for(lambda: shown_ids(panel) == ['visitor_lost-7', 'checkin_failures-6'], 10, 'alerts shown')
        seq = panel.state.seq
        # The visitor stream has been sent a state at least as new as the one with the alerts.
        ros.wait_for(lambda: any(s['seq'] >= seq for s in visitor.states()), 10, 'visitor state after the alerts')
    finally:
        visitor.close()
    seen = json.dumps(visitor.received) + json.dumps(panel.state.visitor_snapshot(0.0))
    assert 'alert' not in seen and 'visitor_lost' not in seen and 'checkin_failures' not in seen


def test_history_keeps_the_last_alerts_seen_settled_ones_included():
    state = PanelState()
    t0 = 1_760_000_000.0
    state.update_alerts([{'id': 'estop-1', 'kind': 'estop', 'severity': 2, 'source': 'safety_gate',
                          'raised': t0, 'active': True, 'acknowledged': False, 'text': 'Emergency stop engaged'}], 1.0)
    snap = state.staff_snapshot(1.0)
    assert [a['id'] for a in snap['alerts']] == ['estop-1'] and 'text' not in snap['alerts'][0]
    seq = state.seq
    state.update_alerts([{'id': 'estop-1', 'kind': 'estop', 'severity': 2, 'source': 'safety_gate', 'raised': t0,
                          'active': True, 'acknowledged': False}], 2.0)
    assert state.seq == seq  # the same list again (a late joiner's latched copy): nothing to push
    # Acknowledged and released: it leaves the list and stays in the history as settled.
    state.update_alerts([], 3.0)
    snap = state.staff_snapshot(3.0)
    assert snap['alerts'] == [] and state.seq > seq
    assert [(a['id'], a['active'], a['acknowledged']) for a in snap['alert_history']] == [('estop-1', False, True)]
    for n in range(2, 2 + ALERT_HISTORY + 5):
        state.update_alerts([{'id': f'stuck-{n}', 'kind': 'stuck', 'severity': 2, 'source': 'escort',
                              'raised': t0 + n, 'active': True, 'acknowledged': False}], 3.0 + n)
    history = state.staff_snapshot(100.0)['alert_history']
    assert len(history) == ALERT_HISTORY and history[0]['id'] == f'stuck-{ALERT_HISTORY + 6}'
    assert [a['raised'] for a in history] == sorted((a['raised'] for a in history), reverse=True)
    assert 'alert' not in json.dumps(state.visitor_snapshot(100.0))

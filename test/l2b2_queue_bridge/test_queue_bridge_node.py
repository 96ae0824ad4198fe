"""The queue bridge node end to end: real services over a real ROS graph, real HTTP to the embedded server."""
from __future__ import annotations

from l2b2_interfaces.msg import ComponentHealth
from l2b2_interfaces.srv import CheckIn, DrawTicket, GetQueueStatus, LookupAppointment
import pytest
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile

from l2b2_common.health import DEGRADED, OK
from l2b2_common.tunables import ParameterError
from l2b2_queue_bridge.queue_bridge_node import QueueBridgeNode

from .conftest import ROBOT


def start_bridge(ros, url: str, staff_key: str = '', **overrides):
    params = {'base_url': url, 'staff_auth_key': staff_key, 'enforce_opening_hours': False,
              'probe_period_s': 0.2, **overrides}
    node = QueueBridgeNode(context=ros.context,
                           parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    ros.add(node)
    return node


def clients(ros):
    probe = ros.node('queue_probe')
    made = {name: probe.create_client(srv, f'/queue/{name}', qos_profile=QoSProfile(depth=100)) for name, srv in (
        ('lookup_appointment', LookupAppointment), ('check_in', CheckIn), ('draw_ticket', DrawTicket),
        ('get_status', GetQueueStatus))}
    ros.wait_for(lambda: all(c.service_is_ready() for c in made.values()), 15.0, 'queue services')
    return probe, made


def call(ros, client, request, timeout=15.0):
    return ros.wait_future(client.call_async(request), timeout, f'answer of {client.srv_name}')


def test_services_end_to_end(ros, embedded_server):
    start_bridge(ros, embedded_server.url, embedded_server.settings.staff_auth_keys[0])
    _probe, srv = clients(ros)

    found = call(ros, srv['lookup_appointment'], LookupAppointment.Request(booking_number='4712', name='Ayse Yilmaz'))
    assert found.result == LookupAppointment.Response.OK, found.message
    assert (found.appointment.target_id, found.appointment.scope_id) == ('meldestelle', 102)
    assert found.appointment.services == ['anmeldung']

    wrong = call(ros, srv['lookup_appointment'], LookupAppointment.Request(booking_number='4712', auth_key='x'))
    assert wrong.result == LookupAppointment.Response.FORBIDDEN
    missing = call(ros, srv['lookup_appointment'], LookupAppointment.Request(booking_number='4799', auth_key='demo'))
    assert missing.result == LookupAppointment.Response.NOT_FOUND

    checked = call(ros, srv['check_in'], CheckIn.Request(booking_number='4712'))
    assert checked.result == CheckIn.Response.OK, checked.message
    assert checked.appointment.status == 'confirmed' and checked.waiting_position >= 1
    again = call(ros, srv['check_in'], CheckIn.Request(booking_number='4712', auth_key='demo'))
    assert again.result == CheckIn.Response.ALREADY_CHECKED_IN

    ticket = call(ros, srv['draw_ticket'], DrawTicket.Request(target_id='pass_ausweis', idempotency_key='abc'))
    assert ticket.result == DrawTicket.Response.OK and ticket.display_number == '1'
    same = call(ros, srv['draw_ticket'], DrawTicket.Request(target_id='pass_ausweis', idempotency_key='abc'))
    assert same.display_number == '1', 'a retried request gets the same ticket'
    closed_target = call(ros, srv['draw_ticket'], DrawTicket.Request(target_id='wc'))
    assert closed_target.result == DrawTicket.Response.NOT_FOUND

    status = call(ros, srv['get_status'], GetQueueStatus.Request(target_id=''))
    assert status.result == GetQueueStatus.Response.OK
    by_target = {q.target_id: q for q in status.queues}
    assert by_target['pass_ausweis'].available and by_target['pass_ausweis'].waiting_count >= 1
    assert len(by_target) == 6


def test_concurrent_service_calls_are_served_in_parallel(ros, fake_server):
    """Eight look-ups against a system that answers each after 1 s: served one after another they would
    take 8 s; in parallel all eight requests are at the system at the same time, and all answer OK."""
    import json
    import threading
    import time

    lock, state = threading.Lock(), {'inside': 0, 'most': 0}
    all_in = threading.Event()
    body = json.dumps({'meta': {'error': False}, 'data': {
        'id': 4711, 'authKey': 'demo', 'status': 'confirmed', 'scope': {'id': 101},
        'appointments': [{'date': int(time.time()) + 600, 'scope': {'id': 101}}]}}).encode()

    def slow(handler, stop):
        with lock:
            state['inside'] += 1
            state['most'] = max(state['most'], state['inside'])
            if state['inside'] >= 8:
                all_in.set()
        all_in.wait(5.0)  # hold every request until all eight are in (or 5 s passed)
        stop.wait(0.2)
        with lock:
            state['inside'] -= 1
        _reply(handler, 200, body)

    server = fake_server(slow)
    start_bridge(ros, server.url, workers=8, timeout_s=8.0, call_budget_s=8.0, service_deadline_s=8.0,
                 read_retries=0, probe_period_s=0.0)
    _probe, srv = clients(ros)
    started = time.monotonic()
    futures = [srv['lookup_appointment'].call_async(LookupAppointment.Request(booking_number='4711', auth_key='demo'))
               for _ in range(8)]
    ros.wait_for(lambda: all(f.done() for f in futures), 30.0, '8 look-up answers')
    elapsed = time.monotonic() - started
    assert all(f.result().result == LookupAppointment.Response.OK for f in futures), \
        [f.result().message for f in futures]
    assert state['most'] == 8, f'only {state["most"]} requests were at the system at once'
    assert elapsed < 5.0, f'8 calls took {elapsed:.1f} s: not served in parallel'


def test_concurrent_ticket_draws_are_unique(ros, embedded_server):
    start_bridge(ros, embedded_server.url, workers=8)
    _probe, srv = clients(ros)
    futures = [srv['draw_ticket'].call_async(DrawTicket.Request(target_id='standesamt', idempotency_key=f'v{i}'))
               for i in range(20)]
    ros.wait_for(lambda: all(f.done() for f in futures), 30.0, '20 ticket answers')
    numbers = sorted(int(f.result().display_number) for f in futures)
    assert numbers == list(range(1, 21))


def test_system_down_answers_unavailable_at_once_and_reports_health(ros, closed_port_url):
    start_bridge(ros, closed_port_url, read_retries=0, breaker_failures=2, breaker_reset_s=60.0)
    probe, srv = clients(ros)
    health = []
    probe.create_subscription(ComponentHealth, '/l2b2/health',
                              lambda m: health.append(m) if m.component == 'queue_bridge' else None, 10)
    answer = call(ros, srv['lookup_appointment'], LookupAppointment.Request(booking_number='4711', auth_key='demo'))
    assert answer.result == LookupAppointment.Response.UNAVAILABLE
    ticket = call(ros, srv['draw_ticket'], DrawTicket.Request(target_id='meldestelle'))
    assert ticket.result == DrawTicket.Response.UNAVAILABLE
    status = call(ros, srv['get_status'], GetQueueStatus.Request(target_id='meldestelle'))
    assert status.result == GetQueueStatus.Response.UNAVAILABLE and not status.queues[0].available
    ros.wait_for(lambda: any(m.level == ComponentHealth.ERROR for m in health), 15.0, 'health ERROR')
    circuit = call(ros, srv['check_in'], CheckIn.Request(booking_number='4711', auth_key='demo'))
    assert circuit.result == CheckIn.Response.UNAVAILABLE and 'circuit open' in circuit.message


def test_logs_never_show_booking_numbers_or_names(ros, embedded_server, capfd):
    start_bridge(ros, embedded_server.url, embedded_server.settings.staff_auth_keys[0])
    _probe, srv = clients(ros)
    for request in (LookupAppointment.Request(booking_number='4713', name='Mehmet Öztürk'),
                    LookupAppointment.Request(booking_number='4713', name='Wrong Person'),
                    LookupAppointment.Request(booking_number='4713', auth_key='demo')):
        call(ros, srv['lookup_appointment'], request)
    call(ros, srv['check_in'], CheckIn.Request(booking_number='4713', auth_key='demo'))
    logs = capfd.readouterr()
    text = logs.out + logs.err
    assert 'booking#' in text, 'the calls were logged, redacted'
    for secret in ('4713', 'Öztürk', 'Mehmet', 'Wrong Person', 'demo'):
        assert secret not in text.replace('demo-staff', '')


def test_bad_base_url_is_a_parameter_error(ros):
    with pytest.raises(ParameterError, match='base_url'):
        QueueBridgeNode(context=ros.context, parameter_overrides=[Parameter('base_url', value='ftp://x')])


def _reply(handler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Content-Length', str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


@pytest.mark.parametrize('status, body, result, words', [
    (403, b'{"meta": {"error": true, "message": "authKey does not match"}, "data": null}',
     LookupAppointment.Response.FORBIDDEN, 'authKey'),
    (404, b'{"meta": {"error": true, "message": "process not found"}, "data": null}',
     LookupAppointment.Response.NOT_FOUND, 'not found'),
    (500, b'{"meta": {"error": true, "message": "db gone"}, "data": null}',
     LookupAppointment.Response.UNAVAILABLE, 'HTTP 500'),
    (200, b'{"meta": {"error": false}, "data": {"id": 47', LookupAppointment.Response.ERROR, 'not JSON'),
])
def test_fault_answers_reach_ros_callers_as_result_codes(ros, fake_server, status, body, result, words):
    server = fake_server(lambda handler, _stop: _reply(handler, status, body))
    start_bridge(ros, server.url, read_retries=0)
    _probe, srv = clients(ros)
    answer = call(ros, srv['lookup_appointment'], LookupAppointment.Request(booking_number='4711', auth_key='demo'))
    assert answer.result == result, answer.message
    assert words in answer.message


def test_failed_check_in_warns_staff_without_visitor_data_until_a_success(ros, embedded_server):
    start_bridge(ros, embedded_server.url, embedded_server.settings.staff_auth_keys[0])
    probe, srv = clients(ros)
    seen: list[ComponentHealth] = []
    probe.create_subscription(ComponentHealth, '/l2b2/health', seen.append, QoSProfile(depth=50))
    refused = call(ros, srv['check_in'], CheckIn.Request(booking_number='4799', auth_key='demo'))
    assert refused.result == CheckIn.Response.NOT_FOUND
    ros.wait_for(lambda: any(h.component == 'queue_bridge' and h.message.startswith('check-in failed: not found')
                             for h in seen), 15.0, 'staff warning about the failed check-in')
    warning = next(h for h in seen if h.message.startswith('check-in failed'))
    assert warning.level == DEGRADED and '4799' not in warning.message
    checked = call(ros, srv['check_in'], CheckIn.Request(booking_number='4712', auth_key='demo'))
    assert checked.result == CheckIn.Response.OK, checked.message
    seen.clear()
    ros.wait_for(lambda: any(h.component == 'queue_bridge' and h.level == OK for h in seen), 15.0,
                 'warning cleared by the next successful check-in')


def test_wrong_credentials_are_an_error_on_health(ros, embedded_server, tmp_path, monkeypatch):
    """The probe logs in (GET /status/ needs a session): refused credentials show as ERROR on
    /l2b2/health (and so on the panel), without the password."""
    monkeypatch.delenv('L2B2_ZMS_PASSWORD', raising=False)
    secret = tmp_path / 'zms-password'
    secret.write_text('not-the-password\n')
    probe = ros.node('health_probe')
    seen: list[ComponentHealth] = []
    probe.create_subscription(ComponentHealth, '/l2b2/health', seen.append, QoSProfile(depth=50))
    start_bridge(ros, embedded_server.url, login_name=ROBOT[0], password_file=str(secret), probe_period_s=0.2)
    ros.wait_for(lambda: any(h.component == 'queue_bridge' and h.level == ComponentHealth.ERROR and 'login' in h.message
                             for h in seen), 15.0, 'health ERROR about the login')
    assert all('not-the-password' not in h.message for h in seen)


def test_right_credentials_log_in_and_check_in(ros, embedded_server, monkeypatch):
    monkeypatch.setenv('L2B2_ZMS_PASSWORD', ROBOT[1])
    node = start_bridge(ros, embedded_server.url, login_name=ROBOT[0])
    _probe, srv = clients(ros)
    found = call(ros, srv['lookup_appointment'], LookupAppointment.Request(booking_number='4712', name='Yilmaz'))
    assert found.result == LookupAppointment.Response.OK, found.message
    checked = call(ros, srv['check_in'], CheckIn.Request(booking_number='4712'))
    assert checked.result == CheckIn.Response.OK and checked.waiting_position >= 1
    assert node.client.adapter.session.logins == 1


def test_a_login_without_a_password_is_a_parameter_error(ros, monkeypatch):
    monkeypatch.delenv('L2B2_ZMS_PASSWORD', raising=False)
    with pytest.raises(ParameterError, match='login_name'):
        QueueBridgeNode(context=ros.context, parameter_overrides=[Parameter('login_name', value='robot')])


def test_the_bridge_logs_out_when_it_closes(ros, embedded_server, monkeypatch):
    import httpx
    monkeypatch.setenv('L2B2_ZMS_PASSWORD', ROBOT[1])
    node = start_bridge(ros, embedded_server.url, login_name=ROBOT[0])
    _probe, srv = clients(ros)
    found = call(ros, srv['lookup_appointment'], LookupAppointment.Request(booking_number='4712', name='Yilmaz'))
    assert found.result == LookupAppointment.Response.OK
    key = node.client.adapter.session.workstation.authkey
    assert httpx.get(embedded_server.url + 'status/', headers={'X-Authkey': key}).status_code == 200
    node.close()
    assert httpx.get(embedded_server.url + 'status/', headers={'X-Authkey': key}).status_code == 401

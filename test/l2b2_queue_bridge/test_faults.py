"""Fault tests: a system that is down, slow, failing, malformed or refusing ends as a clear result code."""
from __future__ import annotations

import json
import time

import pytest

from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.circuit_breaker import OPEN, CircuitBreaker
from l2b2_queue_bridge.client import QueueClient
from l2b2_queue_bridge.results import TargetScope
from l2b2_queue_bridge.zms_adapter import ZmsAdapter


def reply(handler, status: int, body: bytes) -> None:
    handler.send_response(status)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Content-Length', str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


TARGETS = {'meldestelle': TargetScope('meldestelle', 102, 'a1b2c3d4e5f60102')}


def make(url: str, *, timeout_s=0.3, retries=1, failures=3, budget=5.0) -> QueueClient:
    adapter = ZmsAdapter(url, timeout_s=timeout_s, read_retries=retries, backoff_s=0.01, staff_auth_key='staff-key-1',
                         breaker=CircuitBreaker(failures, 30.0), call_budget_s=budget)
    return QueueClient(adapter, TARGETS, enforce_opening_hours=False)


def test_down_answers_unavailable_and_opens_the_circuit(closed_port_url):
    client = make(closed_port_url, failures=2)
    for _ in range(2):
        result = client.lookup('4711', 'demo')
        assert result.code == QueueResult.UNAVAILABLE and 'cannot connect' in result.message
    assert client.adapter.breaker.state == OPEN
    assert client.availability()[0] is False
    result = client.draw_ticket('meldestelle', 'a')
    assert result.code == QueueResult.UNAVAILABLE and 'circuit open' in result.message
    status = client.queue_status('')
    assert status.code == QueueResult.UNAVAILABLE and not status.queues[0].available


def test_slow_system_times_out_and_reads_are_retried(fake_server):
    def slow(handler, stop):
        stop.wait(3.0)  # far past the client's timeout; released at teardown

    server = fake_server(slow)
    client = make(server.url, timeout_s=0.2, retries=1)
    result = client.lookup('4711', 'demo')
    assert result.code == QueueResult.UNAVAILABLE and 'no answer within 0.2 s' in result.message
    assert len(server.requests) == 2, 'one retry of an idempotent read'


def test_retries_stop_at_the_call_budget(fake_server):
    def slow(handler, stop):
        stop.wait(3.0)

    server = fake_server(slow)
    result = make(server.url, timeout_s=0.2, retries=5, budget=0.5).lookup('4711', 'demo')
    assert result.code == QueueResult.UNAVAILABLE
    assert len(server.requests) <= 3, 'attempts of 0.2 s fit at most three times into 0.5 s'


def test_ticket_without_server_idempotency_is_not_retried_after_a_timeout(fake_server):
    def slow(handler, stop):
        stop.wait(3.0)

    server = fake_server(slow)
    client = make(server.url, timeout_s=0.2, retries=2)
    result = client.draw_ticket('meldestelle', 'k1')
    assert result.code == QueueResult.UNAVAILABLE and 'not retried' in result.message
    assert len(server.requests) == 1, 'a draw that may have printed a ticket is never repeated blindly'


def test_ticket_answered_503_is_not_repeated_as_upstream_has_no_idempotency_key(fake_server):
    """Upstream draws a new number for every request: after a 5xx the draw may have happened, so the
    bridge does not repeat it (the visitor hears 'unavailable'; a later request is a new, deliberate draw)."""
    server = fake_server(lambda handler, _stop: reply(handler, 503, b'{"meta": {"error": true}, "data": null}'))
    client = make(server.url, retries=2)
    result = client.draw_ticket('meldestelle', 'k2')
    assert result.code == QueueResult.UNAVAILABLE and 'not retried' in result.message
    assert len(server.requests) == 1
    assert all('idempotency' not in path.lower() for path in server.requests)


def test_refused_connection_is_retried_even_for_a_draw(closed_port_url):
    client = make(closed_port_url, retries=2)
    result = client.draw_ticket('meldestelle', 'k3')
    assert result.code == QueueResult.UNAVAILABLE and 'cannot connect' in result.message


@pytest.mark.parametrize('status, body, code, words', [
    (500, b'{"meta": {"error": true, "message": "db gone"}, "data": null}', QueueResult.UNAVAILABLE, 'HTTP 500'),
    (200, b'{"meta": {"error": false}, "data": {"id": 47', QueueResult.ERROR, 'not JSON'),
    (200, b'<html>proxy login</html>', QueueResult.ERROR, 'not JSON'),
    (200, b'[1, 2, 3]', QueueResult.ERROR, 'envelope'),
    (200, b'{"meta": {}, "data": {"status": "confirmed"}}', QueueResult.ERROR, 'malformed process'),
    (403, b'{"meta": {"error": true, "message": "authKey does not match"}, "data": null}', QueueResult.FORBIDDEN, 'authKey'),
    (404, b'{"meta": {"error": true, "message": "process not found"}, "data": null}', QueueResult.NOT_FOUND, 'not found'),
    (400, b'{"meta": {"error": true, "message": "bad id"}, "data": null}', QueueResult.INVALID, 'bad id'),
])
def test_http_answers_map_to_clear_codes(fake_server, status, body, code, words):
    server = fake_server(lambda handler, _stop: reply(handler, status, body))
    result = make(server.url).lookup('4711', 'demo')
    assert result.code == code
    assert words in result.message


def test_breaker_recovers_when_the_system_comes_back(fake_server):
    state = {'up': False}

    def toggle(handler, _stop):
        if state['up']:
            reply(handler, 200, b'{"meta": {"error": false}, "data": []}')
        else:
            reply(handler, 500, b'{}')

    adapter = ZmsAdapter(fake_server(toggle).url, timeout_s=0.5, read_retries=0,
                         breaker=CircuitBreaker(1, 0.2))
    client = QueueClient(adapter, TARGETS)
    assert client.queue_status('meldestelle').code == QueueResult.UNAVAILABLE
    assert adapter.breaker.state == OPEN
    state['up'] = True
    deadline = time.monotonic() + 10
    while client.queue_status('meldestelle').code != QueueResult.OK:
        assert time.monotonic() < deadline, 'circuit never closed again'
    assert client.availability() == (True, 'ok')


def test_queue_status_is_served_from_memory_briefly(fake_server):
    body = b'{"meta": {"error": false}, "data": [{"arrivalTime": 1, "number": 5, "status": "queued"}]}'
    server = fake_server(lambda handler, _stop: reply(handler, 200, body))
    client = make(server.url)
    client.status_cache_s = 60.0
    first, second = client.queue_status('meldestelle'), client.queue_status('meldestelle')
    assert first == second and first.queues[0].waiting_count == 1
    assert len(server.requests) == 1


def _process_json(status: str) -> bytes:
    """A confirmed booking for now at the Meldestelle, as ZMS shapes it."""
    data = {'id': 4711, 'authKey': 'demo', 'status': status, 'scope': {'id': 102},
            'appointments': [{'date': int(time.time()), 'scope': {'id': 102}}], 'clients': [{'familyName': 'x'}]}
    return json.dumps({'meta': {'error': False}, 'data': data}).encode()


@pytest.mark.parametrize('landed', [True, False])
def test_a_lost_check_in_answer_is_read_back_never_written_twice(fake_server, landed):
    state = {'status': 'confirmed', 'posts': 0}

    def system(handler, stop):
        if handler.command == 'POST':
            state['posts'] += 1
            if landed:
                state['status'] = 'queued'
            stop.wait(3.0)  # the answer never comes back in time
        else:
            reply(handler, 200, _process_json(state['status']))

    client = make(fake_server(system).url, timeout_s=0.3, retries=2)
    client.adapter.check_in_mode = 'status_queued'  # the mode that writes
    result = client.check_in('4711', 'demo')
    assert state['posts'] == 1, 'a check-in is a write: never repeated blindly'
    if landed:
        assert result.code == QueueResult.OK
    else:
        assert result.code == QueueResult.UNAVAILABLE and 'check-in failed' in result.message


def test_an_unusable_answer_never_leaves_the_breaker_waiting_for_its_trial(fake_server):
    """A body that fails to decode (bad gzip) is neither a transport error nor an HTTP status: it must
    still count as a failure, or a half-open breaker would refuse every call from then on."""
    state = {'broken': 3}

    def system(handler, _stop):
        if state['broken'] > 0:
            state['broken'] -= 1
            body = b'not gzip at all'
            handler.send_response(200)
            handler.send_header('Content-Type', 'application/json')
            handler.send_header('Content-Encoding', 'gzip')
            handler.send_header('Content-Length', str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        else:
            reply(handler, 200, b'{"meta": {"error": false}, "data": []}')

    adapter = ZmsAdapter(fake_server(system).url, timeout_s=0.5, read_retries=0, breaker=CircuitBreaker(1, 0.2))
    client = QueueClient(adapter, TARGETS)
    first = client.queue_status('meldestelle')
    assert first.code == QueueResult.UNAVAILABLE or first.code == QueueResult.ERROR
    assert adapter.breaker.state == OPEN
    deadline = time.monotonic() + 10
    while client.queue_status('meldestelle').code != QueueResult.OK:
        assert time.monotonic() < deadline, 'the breaker stayed shut after unusable answers'


def test_deeply_nested_json_from_the_system_is_a_clear_error(fake_server):
    server = fake_server(lambda handler, _stop: reply(handler, 200, b'[' * 100_000))
    result = make(server.url).lookup('4711', 'demo')
    assert result.code == QueueResult.ERROR and 'not JSON' in result.message


def test_one_deadline_is_shared_by_all_calls_and_retries(fake_server):
    """Retries that would fit each call's own budget do not fit the service call's overall deadline."""
    seen = []

    def system(handler, stop):
        seen.append(handler.command)
        stop.wait(3.0)

    adapter = ZmsAdapter(fake_server(system).url, timeout_s=0.5, read_retries=3, backoff_s=0.0, call_budget_s=5.0,
                         breaker=CircuitBreaker(10, 10.0))
    client = QueueClient(adapter, TARGETS)
    with adapter.deadline(0.5):
        result = client.lookup('4711', 'demo')
        later = client.queue_status('meldestelle')
    assert result.code == QueueResult.UNAVAILABLE
    assert later.code == QueueResult.UNAVAILABLE and 'no time left' in later.message
    assert len(seen) == 1, 'the first attempt used up the deadline: no retry, no second call'

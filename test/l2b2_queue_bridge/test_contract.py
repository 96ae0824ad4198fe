"""Contract tests: the embedded server's JSON has the ZMS entity shapes (schemas written from the public
eAppointment schema, see fixtures/README.md), and the adapter reads what a real ZMS sends."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
from jsonschema import Draft202012Validator
import pytest
from referencing import Registry, Resource

from l2b2_queue_bridge.adapter import Code, QueueError
from l2b2_queue_bridge.client import _newcomer_wait
from l2b2_queue_bridge.zms_adapter import parse_process, parse_queue_entry

FIXTURES = Path(__file__).parent / 'fixtures'


def _schema(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding='utf-8'))


REGISTRY = Registry().with_resources(
    (name, Resource.from_contents(_schema(name))) for name in
    ('zms_process.schema.json', 'zms_queue.schema.json', 'zms_metaresult.schema.json'))


def validate(instance, schema_name: str) -> None:
    Draft202012Validator(_schema(schema_name), registry=REGISTRY).validate(instance)


def test_process_answers_match_the_zms_process_schema(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        booking = http.get('/process/4711/demo/').json()
        ticket = http.get('/scope/102/waitingnumber/a1b2c3d4e5f60102/').json()
        checked_in = http.post('/process/status/queued/', json={'id': 4712, 'authKey': 'demo'},
                               headers={'X-Authkey': embedded_server.settings.staff_auth_keys[0]}).json()
    for body in (booking, ticket, checked_in):
        validate(body, 'zms_metaresult.schema.json')
        validate(body['data'], 'zms_process.schema.json')
    assert booking['data']['appointments'][0]['scope']['id'] == 101
    assert ticket['data']['queue']['number'] == 1 and ticket['data']['status'] == 'queued'
    assert checked_in['data']['status'] == 'queued'


def test_queue_answers_match_the_zms_queue_schema(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        http.get('/scope/101/waitingnumber/a1b2c3d4e5f60101/')
        queue = http.get('/scope/101/queue/').json()
        display = http.post('/calldisplay/queue/', json={'scopes': [{'id': 101}, {'id': 102}]}).json()
    for body in (queue, display):
        validate(body, 'zms_metaresult.schema.json')
        assert body['meta']['length'] == len(body['data']) > 0
        for entry in body['data']:
            validate(entry, 'zms_queue.schema.json')
    assert queue['data'][-1]['status'] == 'fake', 'the newcomer stand-in comes last'
    assert all(e['status'] != 'fake' for e in display['data'])


def test_error_answers_have_the_meta_envelope(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        for response in (http.get('/process/4711/nope/'), http.get('/process/12345/demo/'),
                         http.get('/scope/999/queue/'), http.get('/no/such/route/')):
            body = response.json()
            validate(body, 'zms_metaresult.schema.json')
            assert body['meta']['error'] is True and body['data'] is None
            assert body['meta']['status'] == str(response.status_code)


def test_adapter_reads_the_public_zms_process_example():
    body = json.loads((FIXTURES / 'zms_process_example.json').read_text(encoding='utf-8'))
    validate(body['data'], 'zms_process.schema.json')
    p = parse_process(body['data'])
    assert (p.process_id, p.status, p.scope_id, p.display_number, p.queue_number) == (
        123456, 'confirmed', 123, '123456', '123')
    assert p.services == ('Abmeldung einer Wohnung',) and p.service_ids == ('120335',)
    assert p.client_names == ('Max Mustermann',)
    assert p.appointment_time is not None and p.appointment_time.year == 2015


def test_adapter_reads_the_public_zms_queue_shapes():
    body = json.loads((FIXTURES / 'zms_queue_example.json').read_text(encoding='utf-8'))
    entries = [parse_queue_entry(item) for item in body['data']]
    for item in body['data']:
        validate(item, 'zms_queue.schema.json')
    assert [e.number for e in entries] == ['123', '7', '124', '0']
    assert [e.with_appointment for e in entries] == [True, False, True, False]
    assert _newcomer_wait(entries, [e for e in entries if e.status == 'queued']) == 12


@pytest.mark.parametrize('bad', [None, [], {'status': 'queued'}, {'id': 'abc'}, {'id': 1, 'appointments': [{'date': 'x'}]}])
def test_malformed_entities_raise_clear_errors(bad):
    with pytest.raises(QueueError) as info:
        parse_process(bad)
    assert info.value.code == Code.ERROR

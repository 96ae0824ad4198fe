"""Contract tests: every answer of the embedded server validates against the required keys and types of
upstream's entity schemas (process, queue, scope, provider, status, metaresult, workstation; written
into fixtures/ from ``zmsentities/schema``), and the adapter reads what a real ZMS sends."""
from __future__ import annotations

import json
from pathlib import Path

import httpx
from jsonschema import Draft202012Validator
import pytest
from referencing import Registry, Resource

from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.adapter import QueueError
from l2b2_queue_bridge.zms_entities import newcomer, parse_process, parse_queue

from .conftest import ROBOT

FIXTURES = Path(__file__).parent / 'fixtures'
SCHEMAS = ('process', 'queue', 'scope', 'provider', 'status', 'metaresult', 'workstation')


def _schema(name: str) -> dict:
    return json.loads((FIXTURES / f'zms_{name}.schema.json').read_text(encoding='utf-8'))


REGISTRY = Registry().with_resources(
    (f'zms_{name}.schema.json', Resource.from_contents(_schema(name))) for name in SCHEMAS)


def validate(instance, name: str) -> None:
    Draft202012Validator(_schema(name), registry=REGISTRY).validate(instance)


def test_process_answers_match_the_zms_process_schema(embedded_server):
    staff = {'X-Authkey': embedded_server.settings.staff_auth_keys[0]}
    with httpx.Client(base_url=embedded_server.url) as http:
        booking = http.get('/process/4711/demo/').json()
        for_staff = http.get('/process/4713/', headers=staff).json()
        ticket = http.get('/scope/102/waitingnumber/a1b2c3d4e5f60102/').json()
        queued = http.post('/process/status/queued/', json={'id': 4712, 'authKey': 'demo'}, headers=staff).json()
    for body in (booking, for_staff, ticket, queued):
        validate(body, 'metaresult')
        validate(body['data'], 'process')
        for appointment in body['data']['appointments']:  # the scope inside needs provider and shortName
            validate(appointment['scope'], 'scope')
        validate(body['data']['scope'], 'scope')
    assert booking['data']['appointments'][0]['scope']['id'] == 101
    assert ticket['data']['queue']['number'] == 1 and ticket['data']['status'] == 'queued'
    assert queued['data']['status'] == 'queued'


def test_a_walk_in_is_dated_midnight_and_read_as_no_appointment_time(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        ticket = http.get('/scope/102/waitingnumber/a1b2c3d4e5f60102/').json()['data']
    date = ticket['appointments'][0]['date']
    from datetime import datetime
    assert datetime.fromtimestamp(date).astimezone().strftime('%H:%M:%S') == '00:00:00'
    assert parse_process(ticket).appointment_time is None


def test_queue_answers_match_the_zms_queue_schema(embedded_server):
    staff = {'X-Authkey': embedded_server.settings.staff_auth_keys[0]}
    with httpx.Client(base_url=embedded_server.url) as http:
        http.get('/scope/101/waitingnumber/a1b2c3d4e5f60101/')
        queue = http.get('/scope/101/queue/', headers=staff).json()
        display = http.post('/calldisplay/queue/', json={'scopes': [{'id': 101}, {'id': 102}]}, headers=staff).json()
    for body in (queue, display):
        validate(body, 'metaresult')
        assert body['meta']['length'] == len(body['data']) > 0
        assert 'reducedData' not in body['meta']
        for entry in body['data']:
            validate(entry, 'queue')
    assert any(e['status'] == 'fake' and e['number'] == -1 for e in queue['data']), 'the newcomer stand-in'
    assert all(e['status'] != 'fake' for e in display['data'])


def test_status_and_workstation_answers_match_their_schemas(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        login = http.post('/workstation/login/', json={'id': ROBOT[0], 'password': ROBOT[1]}).json()
        status = http.get('/status/', headers={'X-Authkey': login['data']['authkey']}).json()
    for body, name in ((login, 'workstation'), (status, 'status')):
        validate(body, 'metaresult')
        validate(body['data'], name)
    assert isinstance(status['data']['generated'], str), 'upstream: a string, not a number'
    assert login['data']['useraccount']['permissions'] == {'appointment': True}


def test_error_answers_have_the_meta_envelope_and_upstream_exception_names(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        answers = {
            'AuthKeyMatchFailed': http.get('/process/4711/nope/'),
            'ProcessNotFound': http.get('/process/12345/demo/'),
            'ScopeNotFound': http.get('/scope/999/queue/'),
            'StatusAuthenticationFailed': http.get('/status/'),
            'UserAccountMissingLogin': http.get('/process/4711/'),
            'InvalidCredentials': http.post('/workstation/login/', json={'id': ROBOT[0], 'password': 'x'}),
            'SchemaValidation': http.post('/workstation/login/', json={'id': 5}),
            'RouteNotFound': http.get('/no/such/route/'),
        }
    facts = json.loads((FIXTURES / 'zms_upstream_facts.json').read_text(encoding='utf-8'))['errors']
    for name, response in answers.items():
        body = response.json()
        validate(body, 'metaresult')
        assert body['meta']['error'] is True and body['meta']['status'] == str(response.status_code)
        assert body['meta']['exception'].rsplit('\\', 1)[-1] == name
        if name in facts:
            assert response.status_code == facts[name], name


def test_adapter_reads_the_public_zms_process_example():
    body = json.loads((FIXTURES / 'zms_process_example.json').read_text(encoding='utf-8'))
    validate(body['data'], 'process')
    p = parse_process(body['data'])
    assert (p.process_id, p.status, p.scope_id, p.display_number, p.queue_number) == (
        123456, 'confirmed', 123, '123456', '123')
    assert p.services == ('Abmeldung einer Wohnung',) and p.service_ids == ('120335',)
    assert p.client_names == ('Max Mustermann',)
    assert p.appointment_time is not None and p.appointment_time.year == 2015


def test_adapter_reads_the_public_zms_queue_shapes():
    body = json.loads((FIXTURES / 'zms_queue_example.json').read_text(encoding='utf-8'))
    for item in body['data']:
        validate(item, 'queue')
    entries = parse_queue(body['data'])
    assert [e.number for e in entries] == ['123', '7', '124', '0']
    assert [e.with_appointment for e in entries] == [True, False, True, False]
    assert newcomer(entries) == (3, 12), 'queued and confirmed ahead of the fake entry'


@pytest.mark.parametrize('bad', [None, [], {'status': 'queued'}, {'id': 'abc'},
                                 {'id': 1, 'appointments': [{'date': 'x'}]}, {'id': 1, 'requests': 'x'},
                                 {'id': 1, 'requests': {'a': {}}}])
def test_malformed_entities_raise_clear_errors(bad):
    with pytest.raises(QueueError) as info:
        parse_process(bad)
    assert info.value.code == QueueResult.ERROR

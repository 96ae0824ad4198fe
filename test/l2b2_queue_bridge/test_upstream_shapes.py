"""Answers shaped like upstream's published fixtures (facts in fixtures/zms_upstream_facts.json) through
the bridge's parser and counting: both collection shapes, string ids and counters, empty statuses, the
walk-in's midnight date, and counting people ahead as upstream's ticket printer does."""
from __future__ import annotations

from datetime import datetime
import json
from pathlib import Path

from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.zms_entities import newcomer, parse_process, parse_queue

from .test_faults import make, reply

FACTS = json.loads((Path(__file__).parent / 'fixtures' / 'zms_upstream_facts.json').read_text(encoding='utf-8'))
BASE = 1459490400  # 2016-04-01 08:00 Europe/Berlin, the day of upstream's fixtures


def build_queue(fact: dict, as_object: bool = False):
    """A queue list with the fact's entries in order: numbers and arrival times made up, statuses,
    appointment flags and the fake entry's figures as upstream's fixture has them."""
    out, number = [], 80000
    for group in fact['entries_in_order']:
        for _ in range(group['count']):
            number += 1
            entry = {'arrivalTime': BASE + 60 * len(out), 'number': str(number), 'callCount': group.get('callCount', 0),
                     'callTime': 0, 'waitingTimeEstimate': 2 * len(out), 'withAppointment': group['withAppointment']}
            if group['status'] is not None:
                entry['status'] = group['status']
            for key in ('number', 'waitingTimeEstimate', 'waitingTimeOptimistic', 'destinationHint'):
                if key in group:
                    entry[key] = group[key]
            out.append(entry)
    return {str(i): e for i, e in enumerate(out)} if as_object else out


def test_a_newcomer_waits_behind_the_days_confirmed_appointments_too():
    fact = FACTS['ticketprinter_queuelist_141']
    entries = parse_queue(build_queue(fact))
    assert sum(e.status == 'queued' for e in entries) == fact['queued_only'] == 13
    assert newcomer(entries) == (fact['clients_before_a_newcomer'], fact['newcomer_wait_minutes']) == (115, 56)


def test_collections_keyed_0_1_2_read_like_lists():
    for name in ('ticketprinter_queuelist_141', 'ticketprinter_queuelist_312', 'calldisplay_queue'):
        fact = FACTS[name]
        as_list, as_object = build_queue(fact), build_queue(fact, as_object=True)
        assert parse_queue(as_object) == parse_queue(as_list)
        assert len(parse_queue(as_object)) == sum(g['count'] for g in fact['entries_in_order'])
    display = parse_queue(build_queue(FACTS['calldisplay_queue'], as_object=True))
    assert newcomer(display) == (209, display[-1].waiting_time_estimate), \
        'appointments without a status (older servers) count; the called one does not'


def test_a_waiting_number_process_with_string_ids_and_midnight_date():
    fact = FACTS['scope_waitingnumber']['process']
    midnight = int(datetime(2016, 4, 1).astimezone().timestamp())
    data = {'id': fact['id'], 'authKey': fact['authKey'], 'status': fact['status'],
            'appointments': {'0': {'date': midnight, 'scope': {'id': fact['scope_id']}, 'slotCount': fact['slotCount']}},
            'clients': [{'familyName': ''}], 'queue': {'arrivalTime': midnight + 12 * 3600, 'number': fact['queue_number']},
            'scope': {'id': fact['scope_id'], 'shortName': ''}}
    p = parse_process(data)
    assert (p.process_id, p.scope_id, p.queue_number, p.display_number) == (100009, 141, '2', '2')
    assert p.appointment_time is None, 'midnight is the walk-in day, not an appointment time'
    assert p.services == ()


def test_a_backend_process_with_requests_keyed_by_position():
    fact = FACTS['backend_process_10029']['process']
    when = int(datetime(2016, 4, 18, 11, 30).astimezone().timestamp())
    data = {'id': fact['id'], 'status': fact['status'],
            'appointments': [{'date': when, 'slotCount': 1, 'scope': {'id': fact['scope_id'],
                                                                      'shortName': fact['shortName']}}],
            'requests': {'0': fact['request']}, 'queue': fact['queue'], 'clients': {'0': {'familyName': 'J'}}}
    p = parse_process(data)
    assert p.service_ids == ('120703',) and p.services == ('Personalausweis beantragen',)
    assert p.scope_id == 167 and p.appointment_time.hour == 11 and p.client_names == ('J',)


def test_object_shaped_queue_from_a_server_is_no_failure_of_the_system(fake_server):
    body = json.dumps({'meta': {'error': False}, 'data': build_queue(FACTS['ticketprinter_queuelist_141'],
                                                                     as_object=True)}).encode()
    server = fake_server(lambda handler, _stop: reply(handler, 200, body))
    client = make(server.url)
    status = client.queue_status('meldestelle')
    assert status.code == QueueResult.OK and status.queues[0].waiting_count == 115
    assert client.adapter.breaker.consecutive_failures == 0 and client.availability() == (True, 'ok')

"""The queue client (QueueClient + ZmsAdapter) against the real embedded server over loopback HTTP."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from l2b2_common.catalog import load_catalog
from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.client import QueueClient
from l2b2_queue_bridge.names import names_match
from l2b2_queue_bridge.results import TargetScope
from l2b2_queue_bridge.zms_adapter import ZmsAdapter


def make_client(server, now=None, **kwargs) -> QueueClient:
    catalog = load_catalog()
    targets = {t.id: TargetScope(t.id, t.scope_id, t.printer_hash, t.is_open) for t in catalog.targets.values()}
    adapter = ZmsAdapter(server.url, timeout_s=2.0, staff_auth_key=server.settings.staff_auth_keys[0])
    extra = {'now': now} if now else {}
    service_ids = {str(s.zms_request_id): s.id for t in catalog.targets.values() for s in t.services
                   if s.zms_request_id is not None}
    return QueueClient(adapter, targets, service_ids=service_ids, enforce_opening_hours=False, **extra, **kwargs)


@pytest.fixture
def client(embedded_server):
    c = make_client(embedded_server)
    yield c
    c.adapter.close()


def test_names_match_ignores_case_accents_and_turkish_dotless_i():
    assert names_match('ayse yilmaz', ('Ayşe Yılmaz',))
    assert names_match('YILMAZ', ('Ayşe Yılmaz',))
    assert names_match('Erika  Mustermann', ('Erika Mustermann',))
    assert not names_match('Erika Musterfrau', ('Erika Mustermann',))
    assert not names_match('', ('Erika Mustermann',))


def test_lookup_demo_booking_with_auth_key(client):
    result = client.lookup('4711', 'demo')
    assert result.code == QueueResult.OK, result.message
    a = result.appointment
    assert (a.booking_number, a.target_id, a.scope_id, a.status) == ('4711', 'pass_ausweis', 101, 'confirmed')
    assert a.services == ('personalausweis',), 'the catalog service id, as the dialogue knows it'
    assert datetime.fromisoformat(a.appointment_time) > datetime.now().astimezone() - timedelta(minutes=1)


def test_lookup_errors_map_to_codes(client):
    assert client.lookup('4711', 'wrong').code == QueueResult.FORBIDDEN
    assert client.lookup('9999', 'demo').code == QueueResult.NOT_FOUND
    assert client.lookup('47x1', 'demo').code == QueueResult.INVALID
    assert client.lookup('4711', '').code == QueueResult.INVALID, 'neither auth key nor name'
    assert client.lookup('4711', 'de/../mo').code == QueueResult.INVALID


def test_lookup_by_name_uses_the_staff_key_and_checks_the_name(client):
    ok = client.lookup('4712', name='ayse yilmaz')
    assert ok.code == QueueResult.OK and ok.appointment.target_id == 'meldestelle'
    assert client.lookup('4712', name='Erika Mustermann').code == QueueResult.FORBIDDEN
    assert client.lookup('4712', 'demo', name='Ayşe Yılmaz').code == QueueResult.OK


def test_check_in_then_already_checked_in(client, embedded_server):
    """Upstream's path (check_in_mode verify): the confirmed appointment is in the call queue already;
    nothing is written, the visitor hears their place; a second check-in is 'already checked in'."""
    first = client.check_in('4711', 'demo')
    assert first.code == QueueResult.OK, first.message
    assert first.appointment.status == 'confirmed'
    assert embedded_server.db.process(4711).status == 'confirmed', 'verify mode writes nothing'
    assert first.waiting_position >= 1 and first.estimated_wait_minutes >= 0
    again = client.check_in('4711', 'demo')
    assert again.code == QueueResult.ALREADY_CHECKED_IN
    assert again.waiting_position == first.waiting_position


def test_check_in_status_queued_records_the_arrival_but_keeps_the_place(embedded_server):
    """status_queued mode: upstream's POST /process/status/queued/ sets the arrival; an appointment keeps
    its place at its appointment time."""
    client = make_client(embedded_server)
    client.adapter.check_in_mode = 'status_queued'
    try:
        before = client.lookup('4712', 'demo')
        first = client.check_in('4712', 'demo')
        assert first.code == QueueResult.OK, first.message
        assert first.appointment.status == 'queued'
        row = embedded_server.db.process(4712)
        assert row.status == 'queued' and row.arrival_ts is not None
        assert first.appointment.appointment_time == before.appointment.appointment_time
        again = client.check_in('4712', 'demo')
        assert again.code == QueueResult.ALREADY_CHECKED_IN and again.waiting_position == first.waiting_position
    finally:
        client.adapter.close()


def test_check_in_after_a_name_lookup_needs_no_auth_key(client):
    assert client.check_in('4713', '').code == QueueResult.INVALID, 'not verified yet'
    assert client.lookup('4713', name='Öztürk').code == QueueResult.OK
    assert client.check_in('4713', '').code == QueueResult.OK


def test_check_in_time_window(embedded_server):
    early = make_client(embedded_server, now=lambda: datetime.now().astimezone() - timedelta(hours=3))
    late = make_client(embedded_server, now=lambda: datetime.now().astimezone() + timedelta(hours=3))
    try:
        assert early.check_in('4714', 'demo').code == QueueResult.TOO_EARLY
        assert late.check_in('4714', 'demo').code == QueueResult.TOO_LATE
        assert early.lookup('4714', 'demo').appointment.status == 'confirmed', 'refused check-ins change nothing'
    finally:
        early.adapter.close()
        late.adapter.close()


def test_draw_ticket_is_idempotent_per_key(client):
    a = client.draw_ticket('meldestelle', 'visitor-1')
    b = client.draw_ticket('meldestelle', 'visitor-1')
    c = client.draw_ticket('meldestelle', 'visitor-2')
    assert a.code == b.code == c.code == QueueResult.OK
    assert a.display_number == b.display_number
    assert int(c.display_number) == int(a.display_number) + 1
    # The repeated request added nobody; the second visitor waits behind the first (and behind the
    # appointments that fall due meanwhile, as upstream slots them in).
    assert b.waiting_count == a.waiting_count and c.waiting_count >= a.waiting_count + 1
    assert c.estimated_wait_minutes >= a.estimated_wait_minutes >= 0


def test_the_server_like_upstream_keeps_no_idempotency_keys(embedded_server):
    """Upstream draws a new number for every request; the protection against a double draw is the
    robot's own (the bridge's memory of keys), so a second bridge with the same key draws anew."""
    one, two = make_client(embedded_server), make_client(embedded_server)
    try:
        first = one.draw_ticket('standesamt', 'k')
        assert one.draw_ticket('standesamt', 'k').display_number == first.display_number
        assert two.draw_ticket('standesamt', 'k').display_number == str(int(first.display_number) + 1)
    finally:
        one.adapter.close()
        two.adapter.close()


def test_draw_ticket_refusals(client, embedded_server):
    assert client.draw_ticket('nowhere').code == QueueResult.NOT_FOUND
    assert client.draw_ticket('wc').code == QueueResult.NOT_FOUND, 'no queue at the toilets'
    closed = make_client(embedded_server)
    closed.enforce_opening_hours = True
    closed.targets['gewerbeamt'] = closed.targets['gewerbeamt'].__class__(
        'gewerbeamt', 107, 'a1b2c3d4e5f60107', lambda _when: False)
    try:
        assert closed.draw_ticket('gewerbeamt').code == QueueResult.CLOSED
    finally:
        closed.adapter.close()


def test_concurrent_tickets_are_unique_and_gap_free(client, embedded_server):
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(lambda i: client.draw_ticket('pass_ausweis', f'v{i}'), range(40)))
    assert all(r.code == QueueResult.OK for r in results)
    numbers = sorted(int(r.display_number) for r in results)
    assert numbers == list(range(1, 41))
    assert embedded_server.db.ticket_numbers(101) == numbers


def test_queue_status_counts_waiting_visitors(client):
    before = client.queue_status('auslaenderbehoerde')
    assert before.code == QueueResult.OK and len(before.queues) == 1
    q = before.queues[0]
    assert q.available and q.scope_id == 103
    client.draw_ticket('auslaenderbehoerde', 'x')
    after = client.queue_status('auslaenderbehoerde').queues[0]
    assert after.waiting_count >= q.waiting_count + 1
    assert after.estimated_wait_minutes >= q.estimated_wait_minutes
    every = client.queue_status('')
    assert {v.target_id for v in every.queues} == {'pass_ausweis', 'meldestelle', 'auslaenderbehoerde', 'standesamt',
                                                    'parkausweis', 'gewerbeamt'}
    assert client.queue_status('nowhere').code == QueueResult.NOT_FOUND

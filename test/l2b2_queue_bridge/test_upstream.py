"""Working with a city's ZMS as upstream eAppointment behaves: the workstation session (login, expiry,
renewal, logout, permission and scope), the check-in path, ProcessNotCallable, and upstream's errors;
against the embedded server behaving like upstream, through the real adapter over loopback HTTP."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from l2b2_common.catalog import load_catalog
from l2b2_common.codes import QueueResult
from l2b2_queue_bridge.client import QueueClient
from l2b2_queue_bridge.results import TargetScope
from l2b2_queue_bridge.server_db import ProcessRow
from l2b2_queue_bridge.zms_adapter import ZmsAdapter
from l2b2_queue_bridge.zms_session import CredentialError, Credentials, read_credentials

from .conftest import MELDESTELLE_ONLY, NO_RIGHTS, ROBOT, start_embedded


def bridge(server, user=ROBOT, **kwargs) -> QueueClient:
    catalog = load_catalog()
    targets = {t.id: TargetScope(t.id, t.scope_id, t.printer_hash, t.is_open) for t in catalog.targets.values()}
    adapter = ZmsAdapter(server.url, timeout_s=2.0, credentials=Credentials(*user), **kwargs)
    return QueueClient(adapter, targets, enforce_opening_hours=False)


@pytest.fixture
def robot(embedded_server):
    client = bridge(embedded_server)
    yield client
    client.adapter.close()


def _set_status(server, process_id: int, status: str) -> None:
    p = server.db.process(process_id)
    with server.db.write() as conn:
        server.db.insert_process(conn, ProcessRow(**{**p.__dict__, 'status': status}))


# -- the session ------------------------------------------------------------------------------------


def test_login_gives_a_session_that_staff_routes_need(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        assert http.get('/process/4712/').status_code == 401
        assert http.get('/status/').status_code == 401, 'status needs a session or X-Token since August 2026'
        assert http.get('/status/', headers={'X-Token': embedded_server.settings.status_token}).status_code == 200
        bad = http.post('/workstation/login/', json={'id': ROBOT[0], 'password': 'wrong'})
        assert bad.status_code == 401 and bad.json()['meta']['exception'].endswith('InvalidCredentials')
        login = http.post('/workstation/login/', json={'id': ROBOT[0], 'password': ROBOT[1]}).json()['data']
        key = {'X-Authkey': login['authkey']}
        assert http.get('/process/4712/', headers=key).status_code == 200
        assert http.get('/workstation/', headers=key).json()['data']['useraccount']['id'] == ROBOT[0]
        again = http.post('/workstation/login/', json={'id': ROBOT[0], 'password': ROBOT[1]}).json()['data']
        assert http.get('/process/4712/', headers=key).status_code == 401, 'a new login replaces the session'
        assert http.delete(f'/workstation/login/{ROBOT[0]}/', headers={'X-Authkey': again['authkey']}).status_code == 200
        assert http.get('/process/4712/', headers={'X-Authkey': again['authkey']}).status_code == 401, 'logged out'


def test_session_expires_and_the_bridge_logs_in_again(embedded_server):
    """The server's session ends before the bridge expects it to: the refused call logs in again and is
    sent once more; the visitor never notices."""
    client = bridge(embedded_server)
    try:
        assert client.lookup('4712', name='Yilmaz').code == QueueResult.OK
        first_key = client.adapter.session.workstation.authkey
        embedded_server.clock.offset = embedded_server.settings.session_duration_s + 1  # the session expired
        assert client.lookup('4712', name='Yilmaz').code == QueueResult.OK
        assert client.adapter.session.workstation.authkey != first_key
        assert (client.adapter.session.logins, client.adapter.session.renewal_failures) == (2, 0)
    finally:
        client.adapter.close()


def test_session_is_renewed_before_it_expires_and_logged_out_on_close(embedded_server):
    client = bridge(embedded_server, session_duration_s=10.0, renew_before_s=3.0)
    session = client.adapter.session
    now = [1000.0]
    session._clock = lambda: now[0]
    try:
        assert client.lookup('4712', name='Yilmaz').code == QueueResult.OK
        key = session.workstation.authkey
        now[0] += 6.0  # still valid for 4 s: no renewal
        assert client.lookup('4712', name='Yilmaz').code == QueueResult.OK and session.workstation.authkey == key
        now[0] += 2.0  # 2 s left, less than renew_before_s: renewed (logout, login)
        assert client.lookup('4712', name='Yilmaz').code == QueueResult.OK
        assert session.workstation.authkey != key and session.renewals == 1 and session.renewal_failures == 0
        with httpx.Client(base_url=embedded_server.url) as http:
            assert http.get('/status/', headers={'X-Authkey': key}).status_code == 401, 'the old session ended'
            live = session.workstation.authkey
            client.adapter.close()
            assert http.get('/status/', headers={'X-Authkey': live}).status_code == 401, 'logged out on close'
    finally:
        client.adapter.close()


def test_concurrent_calls_share_one_login(embedded_server):
    client = bridge(embedded_server)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(lambda _i: client.lookup('4712', name='Yilmaz').code, range(16)))
        assert codes == [QueueResult.OK] * 16 and client.adapter.session.logins == 1
    finally:
        client.adapter.close()


def test_wrong_credentials_are_an_auth_problem_and_the_visitor_hears_unavailable(embedded_server):
    client = bridge(embedded_server, user=(ROBOT[0], 'wrong-password'))
    try:
        result = client.lookup('4712', name='Yilmaz')
        assert result.code == QueueResult.UNAVAILABLE and 'login' in result.message
        assert 'InvalidCredentials' in client.adapter.auth_problem
        assert 'wrong-password' not in result.message + client.adapter.auth_problem
        assert client.lookup('4711', 'demo').code == QueueResult.OK, 'visitor routes still work'
    finally:
        client.adapter.close()


def test_a_user_without_the_appointment_permission_cannot_queue(embedded_server):
    client = bridge(embedded_server, user=NO_RIGHTS)
    client.adapter.check_in_mode = 'status_queued'
    try:
        result = client.check_in('4712', 'demo')
        assert result.code == QueueResult.UNAVAILABLE
        assert 'permission' in client.adapter.auth_problem
        assert embedded_server.db.process(4712).status == 'confirmed'
    finally:
        client.adapter.close()


def test_a_process_of_another_scope_gets_a_clear_answer(embedded_server):
    """The workstation serves only the Meldestelle (scope 102): booking 4711 is the Pass office's (101)."""
    client = bridge(embedded_server, user=MELDESTELLE_ONLY)
    try:
        assert client.lookup('4712', name='Yilmaz').code == QueueResult.OK
        other = client.lookup('4711', name='Mustermann')
        assert other.code == QueueResult.ERROR and 'scope' in other.message, 'look-up: the info desk, not "wrong name"'
        assert client.check_in('4711', name='Mustermann').code == QueueResult.FORBIDDEN
        with httpx.Client(base_url=embedded_server.url) as http:
            key = client.adapter.session.workstation.authkey
            refused = http.post('/process/status/queued/', json={'id': 4711, 'authKey': 'demo'},
                                headers={'X-Authkey': key})
        assert refused.status_code == 403 and refused.json()['meta']['exception'].endswith('MatchScopeFailed')
    finally:
        client.adapter.close()


def test_credentials_come_from_the_environment_or_a_secret_file(tmp_path):
    assert read_credentials('', env={}) is None
    assert read_credentials('robot', env={'L2B2_ZMS_PASSWORD': 's3cret'}).password == 's3cret'
    secret = tmp_path / 'zms-password'
    secret.write_text('from-file\n')
    assert read_credentials('robot', str(secret), env={}).password == 'from-file'
    assert 's3cret' not in repr(read_credentials('robot', env={'L2B2_ZMS_PASSWORD': 's3cret'}))
    with pytest.raises(CredentialError, match='password file'):
        read_credentials('robot', str(tmp_path / 'missing'), env={})
    with pytest.raises(CredentialError, match='L2B2_ZMS_PASSWORD'):
        read_credentials('robot', '', env={})


# -- check-in and processes that cannot be called ---------------------------------------------------


@pytest.mark.parametrize('status, code', [
    ('reserved', QueueResult.INVALID), ('preconfirmed', QueueResult.INVALID), ('deleted', QueueResult.NOT_FOUND)])
def test_process_not_callable_gets_a_visitor_answer(embedded_server, robot, status, code):
    """Upstream's 403 ProcessNotCallable: the info desk (a code the dialogue answers with 'please see the
    info desk') for a booking not (yet, or no longer) callable. Never 'forbidden'."""
    _set_status(embedded_server, 4712, status)
    with httpx.Client(base_url=embedded_server.url) as http:
        answer = http.get('/process/4712/', headers={'X-Authkey': embedded_server.settings.staff_auth_keys[0]})
    assert answer.status_code == 403 and answer.json()['data'] == {'processId': 4712, 'status': status}
    assert robot.lookup('4712', name='Yilmaz').code == QueueResult.ERROR, 'the dialogue sends the visitor to the info desk'
    assert robot.check_in('4712', 'demo').code == code
    assert robot.lookup('4712', name='Yilmaz').code != QueueResult.FORBIDDEN


@pytest.mark.parametrize('status', ['called', 'processing'])
def test_a_called_booking_is_no_oracle(embedded_server, robot, status):
    """Upstream hides a called booking's name. The visitor this robot checked in hears "already checked in"
    by the same surname; a wrong name, or a booking called without the robot, gets exactly what an unknown
    number gets (so a guessed number tells nothing). The booking's key still proves it."""
    unknown = robot.lookup('99999', name='Yilmaz')
    assert unknown.code == QueueResult.NOT_FOUND
    assert robot.check_in('4712', name='Ayse Yilmaz').code == QueueResult.OK
    _set_status(embedded_server, 4712, status)
    _set_status(embedded_server, 4714, status)
    for name in ('Yilmaz', 'AYŞE YILMAZ'):
        lookup = robot.lookup('4712', name=name)
        assert lookup.code == QueueResult.OK and lookup.appointment.status == status
        assert robot.check_in('4712').code == QueueResult.ALREADY_CHECKED_IN  # verified by that look-up
        assert robot.check_in('4712', name=name).code == QueueResult.ALREADY_CHECKED_IN
    for number, name in (('4712', 'Ayse'), ('4712', 'Mustermann'), ('4714', 'Mustermann')):
        lookup = robot.lookup(number, name=name)
        assert (lookup.code, lookup.message, lookup.appointment) == (unknown.code, unknown.message, unknown.appointment)
        check_in = robot.check_in(number, name=name)
        assert (check_in.code, check_in.message) == (unknown.code, unknown.message)
    assert robot.check_in('4714').code == QueueResult.INVALID, 'no name, no key, not verified'
    assert robot.check_in('4714', 'demo').code == QueueResult.ALREADY_CHECKED_IN


def test_upstream_status_queued_does_not_check_the_state_so_the_bridge_does(embedded_server, robot):
    """Upstream's POST /process/status/queued/ re-queues anything (a called visitor would lose their
    call); the embedded server does the same, and the bridge sends it only for a confirmed booking."""
    _set_status(embedded_server, 4713, 'called')
    with httpx.Client(base_url=embedded_server.url) as http:
        direct = http.post('/process/status/queued/', json={'id': 4713, 'authKey': 'demo'},
                           headers={'X-Authkey': embedded_server.settings.staff_auth_keys[0]})
    assert direct.status_code == 200 and direct.json()['data']['status'] == 'queued'
    _set_status(embedded_server, 4714, 'called')
    robot.adapter.check_in_mode = 'status_queued'
    assert robot.check_in('4714', 'demo').code == QueueResult.ALREADY_CHECKED_IN
    assert embedded_server.db.process(4714).status == 'called', 'the bridge did not re-queue a called visitor'


# -- upstream's errors ------------------------------------------------------------------------------


def test_numbers_exhausted_is_upstreams_404_and_the_visitor_hears_closed(tmp_path):
    server = start_embedded(tmp_path, scope_defaults={'first_number': 1, 'last_number': 2,
                                                      'processing_minutes': 10, 'workstations': 2})
    client = bridge(server)
    try:
        assert [client.draw_ticket('meldestelle').code for _ in range(2)] == [QueueResult.OK] * 2
        with httpx.Client(base_url=server.url) as http:
            raw = http.get('/scope/102/waitingnumber/a1b2c3d4e5f60102/')
        assert raw.status_code == 404 and raw.json()['meta']['exception'].endswith('GivenNumberCountExceeded')
        third = client.draw_ticket('meldestelle')
        assert third.code == QueueResult.CLOSED and 'left today' in third.message
    finally:
        client.adapter.close()
        server.running.stop()
        server.db.close()


def test_service_not_offered_is_404_and_a_schema_error_is_400(embedded_server, robot):
    with httpx.Client(base_url=embedded_server.url) as http:
        offered = http.get('/scope/102/waitingnumber/any-hash/', params={'requestId': 10101})
        assert offered.status_code == 200, 'upstream checks no printer hash'
        not_offered = http.get('/scope/102/waitingnumber/any-hash/', params={'requestId': 999999})
        assert not_offered.status_code == 404
        assert not_offered.json()['meta']['exception'].endswith('RequestNotFound')
    adapter = robot.adapter
    from l2b2_queue_bridge.adapter import QueueError
    with pytest.raises(QueueError) as info:
        adapter.draw_waiting_number(102, 'x', '999999')
    assert info.value.code == QueueResult.NOT_FOUND and info.value.reason == 'RequestNotFound'
    with pytest.raises(QueueError) as info:
        adapter._call('POST', 'process/status/queued/', idempotent=False, staff=True, json={'id': 'x'})
    assert info.value.code == QueueResult.INVALID and info.value.reason == 'SchemaValidation'


def test_unauthenticated_queue_lists_carry_no_booking_numbers(embedded_server):
    with httpx.Client(base_url=embedded_server.url) as http:
        anonymous = http.get('/scope/101/queue/').json()
        display = http.post('/calldisplay/queue/', json={'scopes': [{'id': 101}]}).json()
        staff = http.get('/scope/101/queue/', headers={'X-Authkey': embedded_server.settings.staff_auth_keys[0]}).json()
    for body in (anonymous, display):
        assert body['meta']['reducedData'] is True
        assert all(e['number'] == 0 and e['displayNumber'] == '' for e in body['data'] if e['withAppointment'])
        assert '4711' not in str(body['data'])
    assert any(str(e['number']) == '4711' for e in staff['data'])


def test_state_changing_routes_are_rate_limited_per_client(tmp_path):
    server = start_embedded(tmp_path, rate_limit_per_minute=5)
    try:
        with httpx.Client(base_url=server.url) as http:
            codes = [http.get('/scope/102/waitingnumber/h/').status_code for _ in range(7)]
            assert codes == [200] * 5 + [429] * 2
            limited = http.get('/scope/102/waitingnumber/h/')
            assert int(limited.headers['Retry-After']) >= 1
            assert http.get('/scope/102/queue/').status_code == 200, 'reads are not limited'
        assert server.db.ticket_numbers(102) == [1, 2, 3, 4, 5]
    finally:
        server.running.stop()
        server.db.close()


def test_a_configured_staff_key_replaces_the_demo_key(monkeypatch):
    from l2b2_queue_bridge.appointment_server import load_settings
    monkeypatch.delenv('L2B2_ZMS_STAFF_KEY', raising=False)
    assert load_settings('appointment_server.yaml').staff_auth_keys == ('l2b2-demo-staff-key',)
    monkeypatch.setenv('L2B2_ZMS_STAFF_KEY', 'site-key-0123456789')
    assert load_settings('appointment_server.yaml').staff_auth_keys == ('site-key-0123456789',)
    monkeypatch.setenv('L2B2_ZMS_PASSWORD', 'robot-pass')
    users = load_settings('appointment_server.yaml').users
    assert [u.login for u in users] == ['l2b2-robot'] and 'robot-pass' not in repr(users)

"""``l2b2-queue-check`` against the embedded server: reports what works and what not, changes nothing."""
from __future__ import annotations

import json

from l2b2_queue_bridge.bridge_params import QueueBridgeParams
from l2b2_queue_bridge.check import main, run_checks

from .conftest import NO_RIGHTS, ROBOT


def _snapshot(server) -> list:
    conn = server.db._conn()
    return [tuple(r) for r in conn.execute('SELECT * FROM processes ORDER BY id')] + \
        [tuple(r) for r in conn.execute('SELECT * FROM ticket_counters')]


def test_all_checks_pass_with_the_right_login_and_nothing_changes(embedded_server):
    before = _snapshot(embedded_server)
    params = QueueBridgeParams(base_url=embedded_server.url, login_name=ROBOT[0])
    checks = run_checks(params, booking='4712', env={'L2B2_ZMS_PASSWORD': ROBOT[1]})
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    names = [c.what for c in checks]
    assert names[:4] == ['credentials', 'login', 'permission', 'status']
    assert sum(n.startswith('queue ') for n in names) == 6 and names[-1] == 'staff read of a booking'
    assert 'password from $L2B2_ZMS_PASSWORD' in checks[0].detail and ROBOT[1] not in str(checks)
    assert _snapshot(embedded_server) == before, 'the check changed data'
    with embedded_server.db._conn() as conn:
        assert conn.execute('SELECT COUNT(*) FROM processes WHERE id >= 500000').fetchone()[0] == 0


def test_wrong_password_missing_permission_and_no_credentials_are_reported(embedded_server):
    wrong = run_checks(QueueBridgeParams(base_url=embedded_server.url, login_name=ROBOT[0]),
                       env={'L2B2_ZMS_PASSWORD': 'nope'})
    assert [(c.what, c.ok) for c in wrong][:2] == [('credentials', True), ('login', False)]
    assert not any(c.ok for c in wrong[2:]), 'without a session nothing staff-side works'
    assert 'InvalidCredentials' in wrong[1].detail and 'nope' not in str(wrong)
    viewer = run_checks(QueueBridgeParams(base_url=embedded_server.url, login_name=NO_RIGHTS[0]),
                        env={'L2B2_ZMS_PASSWORD': NO_RIGHTS[1]})
    assert ('permission', False) in [(c.what, c.ok) for c in viewer]
    nothing = run_checks(QueueBridgeParams(base_url=embedded_server.url), env={})
    by_name = {c.what: c for c in nothing}
    assert not by_name['credentials'].ok and not by_name['status'].ok, 'GET /status/ needs a session'
    assert not by_name['queue meldestelle (scope 102)'].ok, 'booking numbers hidden without a session'


def test_command_line_json_and_exit_status(embedded_server, tmp_path, monkeypatch, capsys):
    params = tmp_path / 'queue_bridge.yaml'
    params.write_text('queue_bridge:\n  ros__parameters:\n    login_name: l2b2-robot\n    staff_auth_key: ""\n')
    monkeypatch.setenv('L2B2_ZMS_PASSWORD', ROBOT[1])
    assert main(['--config', str(params), '--base-url', embedded_server.url, '--json']) == 0
    report = json.loads(capsys.readouterr().out)
    assert report['ok'] is True and len(report['checks']) == 10
    monkeypatch.setenv('L2B2_ZMS_PASSWORD', 'wrong')
    assert main(['--config', str(params), '--base-url', embedded_server.url]) == 1
    assert 'FAIL  login' in capsys.readouterr().out
    params.write_text('queue_bridge:\n  ros__parameters:\n    timeout_s: 99.0\n')
    assert main(['--config', str(params)]) == 78

"""Passwords, sessions, throttling and the users file: the panel's login without a browser or ROS."""
from __future__ import annotations

import json
import stat
import subprocess
import sys

import pytest

from l2b2_panel.audit import AuditLog
from l2b2_panel.auth import (
    DEMO_PASSWORD,
    DEMO_USER,
    OBSERVER,
    STAFF,
    Authenticator,
    AuthError,
    LoginThrottle,
    SessionStore,
    UserStore,
    hash_password,
    verify_password,
)


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_hash_is_salted_scrypt_and_verifies():
    a, b = hash_password('correct horse', n=2**10), hash_password('correct horse', n=2**10)
    assert a.startswith('scrypt$') and a != b
    assert verify_password('correct horse', a)
    assert not verify_password('wrong horse', a)
    assert not verify_password('x', 'garbage')


def test_users_file_is_private_and_rejects_weak_or_demo_passwords(tmp_path):
    path = tmp_path / 'state' / 'users.json'
    store = UserStore(path)
    with pytest.raises(AuthError, match='at least'):
        store.set_password('anna', 'short')
    with pytest.raises(AuthError, match='demo'):
        store.set_password('anna', DEMO_PASSWORD)
    with pytest.raises(AuthError, match='user name'):
        store.set_password('an na', 'long enough pw')
    store.set_password('anna', 'long enough pw')
    store.set_password('olaf', 'watching only', OBSERVER)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert 'long enough pw' not in text
    again = UserStore(path)
    assert again.get('anna').role == STAFF and again.get('olaf').role == OBSERVER
    assert len(again) == 2


def test_no_default_password_and_demo_user_only_on_request(tmp_path):
    store = UserStore(tmp_path / 'users.json')
    assert len(store) == 0 and store.get(DEMO_USER) is None
    store.enable_demo_user()
    assert store.get(DEMO_USER).role == STAFF
    assert not (tmp_path / 'users.json').exists()  # the demo credential is never written


def test_sessions_expire():
    clock = FakeClock()
    users = UserStore(None)
    users.enable_demo_user()
    auth = Authenticator(users, SessionStore(60.0, clock), LoginThrottle(5, 60.0, clock))
    session, _ = auth.login(DEMO_USER, DEMO_PASSWORD, '127.0.0.1')
    assert auth.sessions.get(session.token) is session
    clock.t += 61
    assert auth.sessions.get(session.token) is None


def test_brute_force_is_throttled_per_address_and_per_user():
    clock = FakeClock()
    users = UserStore(None)
    users.enable_demo_user()
    auth = Authenticator(users, SessionStore(60.0, clock), LoginThrottle(3, 60.0, clock))
    for _ in range(3):
        assert auth.login(DEMO_USER, 'guess', '10.0.0.1') == (None, 0.0)
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.1')
    assert session is None and wait > 0  # even the right password waits
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.2')
    assert session is None and wait > 0  # the user name is throttled too
    clock.t += 61
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.1')
    assert session is not None and wait == 0


def test_audit_log_keeps_only_allowed_details(tmp_path):
    log = AuditLog(tmp_path / 'audit.jsonl')
    log.record('anna', 'say', language='tr', chars=12, text='Frau Mustermann, Nummer 4711')
    entry = json.loads((tmp_path / 'audit.jsonl').read_text().strip())
    assert entry['user'] == 'anna' and entry['action'] == 'say' and entry['chars'] == 12 and 'time' in entry
    assert 'Mustermann' not in json.dumps(entry) and '4711' not in json.dumps(entry)


def test_set_password_cli_writes_the_users_file(tmp_path):
    path = tmp_path / 'users.json'
    cmd = [sys.executable, '-c', 'import sys; from l2b2_panel.panel_node import main; sys.exit(main())',
           '--set-password', 'anna', '--users-file', str(path)]
    done = subprocess.run(cmd, input='a good password\n', capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert UserStore(path).get('anna').role == STAFF
    bad = subprocess.run(cmd, input='short\n', capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and 'at least' in bad.stderr


def test_guesses_from_many_addresses_cannot_lock_staff_out():
    """Per address the limit is hard; per user name it only slows down, and never a known address."""
    clock = FakeClock()
    users = UserStore(None)
    users.enable_demo_user()
    throttle = LoginThrottle(3, 300.0, clock, max_user_delay_s=30.0)
    auth = Authenticator(users, SessionStore(3600.0, clock), throttle)
    assert auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.9')[0] is not None  # her desk, earlier today
    # Someone on the public WLAN guesses from ever new addresses, as fast as allowed.
    delays = []
    for i in range(12):
        wait = throttle.retry_after(f'192.168.7.{i}', DEMO_USER)
        delays.append(wait)
        clock.t += wait
        assert auth.login(DEMO_USER, 'guess', f'192.168.7.{i}') == (None, 0.0)
    assert delays[:3] == [0.0, 0.0, 0.0] and delays[3] > 0
    assert delays[3:] == sorted(delays[3:]) and delays[-1] == 30.0  # growing, capped
    # Her known address is not held back by the user name at all.
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.9')
    assert session is not None and wait == 0
    # A new address of hers waits at most the capped delay, then gets in: no lock-out for the window.
    for i in range(12):
        clock.t += throttle.retry_after(f'172.16.0.{i}', DEMO_USER)
        auth.login(DEMO_USER, 'guess', f'172.16.0.{i}')
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.77')
    assert session is None and 0 < wait <= 30.0
    clock.t += wait
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.77')
    assert session is not None and wait == 0


def test_guesses_under_other_names_do_not_lock_the_address_out():
    """Issue 17: five failures under any names from one address (an office behind NAT or the HTTPS
    proxy) used to block every login from it for 300 s, the real user's right password included."""
    clock = FakeClock()
    users = UserStore(None)
    users.enable_demo_user()
    auth = Authenticator(users, SessionStore(3600.0, clock), LoginThrottle(5, 300.0, clock))
    for i in range(1, 6):
        assert auth.login(f'x{i}', 'x', '192.168.7.1') == (None, 0.0)
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '192.168.7.1')
    assert session is not None and wait == 0


def test_an_attacker_sharing_the_address_is_slowed_but_the_real_user_gets_in():
    """Guessing one name from one address: a doubling delay, capped, never a lock-out; the user's own
    browser (device cookie from an earlier log-in) is not held back at all, even from the same address."""
    clock = FakeClock()
    users = UserStore(None)
    users.enable_demo_user()
    throttle = LoginThrottle(3, 300.0, clock, max_user_delay_s=30.0)
    auth = Authenticator(users, SessionStore(3600.0, clock), throttle)
    session, _ = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.1')  # her browser, yesterday
    device = auth.devices.issue(session.user)
    guesses, waited = 0, 0.0
    while waited < 600.0:  # ten minutes of guessing as fast as allowed, from the office's one address
        wait = throttle.retry_after('10.0.0.1', DEMO_USER)
        clock.t += wait
        waited += wait
        assert auth.login(DEMO_USER, f'guess{guesses}', '10.0.0.1') == (None, 0.0)
        guesses += 1
        assert wait <= 30.0  # never longer than the cap: no lock-out
    assert guesses < 40  # ...but slow: about two guesses a minute
    assert auth.login(DEMO_USER, 'one more', '10.0.0.1')[1] > 0  # the attacker waits
    session, wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.1', device)  # she does not
    assert session is not None and wait == 0
    assert auth.login(DEMO_USER, 'wrong', '10.0.0.1', 'forged-device')[1] > 0  # a made-up cookie is nothing
    # Without her cookie (a colleague's new tablet) the right password waits at most the cap, then passes.
    wait = auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.1')[1]
    assert 0 < wait <= 30.0
    clock.t += wait
    assert auth.login(DEMO_USER, DEMO_PASSWORD, '10.0.0.1')[0] is not None


def test_one_address_spraying_many_names_is_slowed_except_for_names_known_there():
    clock = FakeClock()
    users = UserStore(None)
    users.enable_demo_user()
    throttle = LoginThrottle(3, 300.0, clock)
    auth = Authenticator(users, SessionStore(3600.0, clock), throttle)
    assert auth.login(DEMO_USER, DEMO_PASSWORD, '192.168.7.1')[0] is not None
    for i in range(12):  # 4 x max_failures under twelve names
        clock.t += throttle.retry_after('192.168.7.1', f'name{i}')
        auth.login(f'name{i}', 'guess', '192.168.7.1')
    assert throttle.retry_after('192.168.7.1', 'name99') > 0
    assert throttle.retry_after('192.168.7.1', DEMO_USER) == 0  # she logged in from here before
    assert throttle.retry_after('192.168.7.2', 'name99') == 0

"""The panel on a public WLAN: every control and the live stream need a staff login; cross-site is refused."""
from __future__ import annotations

import asyncio

import aiohttp

CONTROLS = ['estop', 'resume', 'send', 'cancel', 'say', 'language', 'takeover', 'reset']


def ws_status(url: str, path: str, cookie: str = '', origin: str | None = None) -> int | str:
    """Open a WebSocket like a browser would; the handshake's HTTP status, or 'open'."""
    async def go():
        headers = {**({'Cookie': cookie} if cookie else {}), **({'Origin': origin} if origin else {})}
        async with aiohttp.ClientSession() as s:
            try:
                async with s.ws_connect(url.rstrip('/') + path, headers=headers, timeout=aiohttp.ClientWSTimeout(10)):
                    return 'open'
            except aiohttp.WSServerHandshakeError as e:
                return e.status
    return asyncio.run(go())


def test_every_control_and_the_stream_refuse_unauthenticated(panel, http):
    http = http(panel.url)
    for name in CONTROLS:
        status, payload, _ = http.request('POST', f'/api/control/{name}', {'confirm': True})
        assert status == 401, (name, payload)
    assert http.request('GET', '/api/map')[0] == 401
    assert http.request('GET', '/api/audit')[0] == 401
    assert ws_status(panel.url, '/ws/staff') == 401
    assert ws_status(panel.url, '/ws/staff', cookie='l2b2_session=forged') == 401
    # Logged in, the same requests go through (the services are simply not there: 503, not 401).
    assert http.login() == 200
    assert http.request('POST', '/api/control/reset', {})[0] == 503
    assert ws_status(panel.url, '/ws/staff', cookie=http.cookie) == 'open'


def test_controls_need_the_csrf_token_and_refuse_cross_site(panel, http):
    http = http(panel.url)
    assert http.login() == 200
    token, http.csrf = http.csrf, ''
    assert http.request('POST', '/api/control/reset', {})[0] == 403
    http.csrf = token
    evil = {'Origin': 'http://evil.example'}
    assert http.request('POST', '/api/control/reset', {}, headers=evil)[0] == 403
    assert http.request('POST', '/api/control/reset', {}, headers={'Sec-Fetch-Site': 'cross-site'})[0] == 403
    assert http.request('POST', '/api/login', {'user': 'staff', 'password': 'l2b2-demo'}, headers=evil)[0] == 403
    assert ws_status(panel.url, '/ws/staff', cookie=http.cookie, origin='http://evil.example') == 403
    assert ws_status(panel.url, '/ws/visitor', origin='http://evil.example') == 403
    same = panel.url.rstrip('/')
    assert ws_status(panel.url, '/ws/staff', cookie=http.cookie, origin=same) == 'open'
    status, _, headers = http.request('GET', '/')
    assert status == 200 and "frame-ancestors 'none'" in headers['Content-Security-Policy']


def test_brute_force_is_throttled(panel_factory, http, tmp_path):
    panel = panel_factory(login_max_failures=3)
    http = http(panel.url)
    for _ in range(3):
        assert http.request('POST', '/api/login', {'user': 'staff', 'password': 'wrong'})[0] == 401
    status, payload, headers = http.request('POST', '/api/login', {'user': 'staff', 'password': 'l2b2-demo'})
    assert status == 429 and int(headers['Retry-After']) > 0
    entries = [e['action'] for e in panel.audit.recent()]
    assert entries.count('login_failed') == 3 and 'login_throttled' in entries


def test_observer_sees_but_cannot_act(panel_factory, http, tmp_path):
    panel = panel_factory(demo_mode=False)
    panel.web.auth.users.path = tmp_path / 'state' / 'users.json'
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    http = http(panel.url)
    assert http.login('olaf', 'only watching') == 200
    assert ws_status(panel.url, '/ws/staff', cookie=http.cookie) == 'open'
    assert http.request('GET', '/api/map')[0] == 200
    for name in CONTROLS[1:]:
        assert http.request('POST', f'/api/control/{name}', {'confirm': True})[0] == 403, name
    # ...but anyone logged in may stop the robot (here no safety gate runs: 503, not 403).
    assert http.request('POST', '/api/control/estop', {})[0] == 503
    assert http.request('GET', '/api/audit')[0] == 403


def test_no_login_possible_without_a_configured_password(panel_factory, http, tmp_path):
    panel = panel_factory(demo_mode=False)
    http = http(panel.url)
    status, payload, _ = http.request('GET', '/api/session')
    assert status == 401 and payload['setup_needed'] is True and payload['demo'] is False
    assert http.login() == 401  # the demo credential does not exist outside simulation


def test_visitor_screen_only_for_the_robot_itself(panel_factory, http, tmp_path):
    panel = panel_factory(visitor_networks=['10.42.0.0/16'])
    http = http(panel.url)
    assert http.request('GET', '/visitor')[0] == 403
    assert ws_status(panel.url, '/ws/visitor') == 403

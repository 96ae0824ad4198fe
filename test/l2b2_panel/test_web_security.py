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


def test_staff_behind_one_address_are_not_locked_out_by_guesses_under_other_names(panel, http):
    """Issue 17: five failures under any names from one address no longer block the real user."""
    guesser = http(panel.url)
    for i in range(1, 6):
        assert guesser.request('POST', '/api/login', {'user': f'x{i}', 'password': 'x'})[0] == 401
    assert http(panel.url).login() == 200


def test_the_device_cookie_lets_the_real_user_past_a_guesser_on_her_address(panel_factory, http):
    panel = panel_factory(login_max_failures=3)
    anna = http(panel.url)
    status, _, headers = anna.request('POST', '/api/login', {'user': 'staff', 'password': 'l2b2-demo'})
    assert status == 200
    device = next(c.split(';')[0] for c in headers.get_all('Set-Cookie') if c.startswith('l2b2_device='))
    assert 'HttpOnly' in next(c for c in headers.get_all('Set-Cookie') if c.startswith('l2b2_device='))
    guesser = http(panel.url)  # same address (loopback), no cookie
    for _ in range(3):
        assert guesser.request('POST', '/api/login', {'user': 'staff', 'password': 'wrong'})[0] == 401
    assert guesser.request('POST', '/api/login', {'user': 'staff', 'password': 'l2b2-demo'})[0] == 429
    status, _, _ = anna.request('POST', '/api/login', {'user': 'staff', 'password': 'l2b2-demo'},
                                headers={'Cookie': device})
    assert status == 200


def test_forwarded_for_counts_only_from_a_trusted_proxy(panel_factory, http):
    """Behind the HTTPS proxy each office client is counted on its own; a direct client cannot pick an
    address by sending the header itself."""
    def attempts(panel) -> list[int]:
        client, right, wrong = http(panel.url), {'user': 'staff', 'password': 'l2b2-demo'}, \
            {'user': 'staff', 'password': 'wrong'}
        desk, guesser = {'X-Forwarded-For': '10.2.2.2'}, {'X-Forwarded-For': '10.1.1.1'}
        return [client.request('POST', '/api/login', right, headers=desk)[0],  # her desk, this morning
                client.request('POST', '/api/login', wrong, headers=guesser)[0],
                client.request('POST', '/api/login', wrong, headers=guesser)[0],
                client.request('POST', '/api/login', right, headers=guesser)[0],
                client.request('POST', '/api/login', right, headers=desk)[0]]
    trusting = panel_factory(login_max_failures=2, trusted_proxies=['127.0.0.1'])
    assert attempts(trusting) == [200, 401, 401, 429, 200]
    assert [e.get('client') for e in trusting.audit.recent()] == ['10.2.2.2'] + ['10.1.1.1'] * 3 + ['10.2.2.2']
    direct = panel_factory(login_max_failures=2)  # no trusted proxy: the header is ignored
    assert attempts(direct) == [200, 401, 401, 429, 429]
    assert {e.get('client') for e in direct.audit.recent()} == {'127.0.0.1'}


def test_deeply_nested_json_is_a_clean_400(panel, http):
    client = http(panel.url)
    body = ('{"user": ' + '[' * 30000 + ']' * 30000 + ', "password": "x"}').encode()
    import urllib.error
    import urllib.request
    req = urllib.request.Request(panel.url + 'api/login', data=body, method='POST',
                                 headers={'Content-Type': 'application/json'})
    try:
        urllib.request.urlopen(req, timeout=15)
        status = 200
    except urllib.error.HTTPError as e:
        status = e.code
    assert len(body) > 60_000 and status == 400
    assert client.request('POST', '/api/login', {'user': ['staff'], 'password': 'l2b2-demo'})[0] == 400
    assert client.login() == 200  # and the server is fine


def test_error_responses_carry_the_security_headers_and_no_server_version(panel, http):
    client = http(panel.url)
    answers = {
        403: client.request('POST', '/api/login', {'user': 'a', 'password': 'b'},
                            headers={'Origin': 'http://evil.example'}),
        404: client.request('GET', '/no/such/page'),
        405: client.request('GET', '/api/login'),
        413: client.request('POST', '/api/login', {'user': 'a', 'password': 'x' * 100_000}),
        200: client.request('GET', '/static/style.css'),
    }
    for status, (got, _payload, headers) in answers.items():
        assert got == status
        assert "frame-ancestors 'none'" in headers['Content-Security-Policy'], status
        assert headers['X-Content-Type-Options'] == 'nosniff' and headers['X-Frame-Options'] == 'DENY', status
        assert 'aiohttp' not in headers.get('Server', '') and 'Python' not in headers.get('Server', ''), status


def test_only_allowed_host_names_are_served(panel_factory, http):
    """DNS rebinding: a page on evil.example resolving to the robot sends Host: evil.example."""
    panel = panel_factory(allowed_hosts=['robot.buergerbuero.local'])
    client = http(panel.url)
    port = panel.port
    assert client.request('GET', '/', headers={'Host': f'evil.example:{port}'})[0] == 421
    assert client.request('POST', '/api/login', {'user': 'staff', 'password': 'l2b2-demo'},
                          headers={'Host': 'evil.example'})[0] == 421
    assert client.request('GET', '/', headers={'Host': f'robot.buergerbuero.local:{port}'})[0] == 200
    assert client.request('GET', '/', headers={'Host': f'localhost:{port}'})[0] == 200
    assert client.login() == 200  # 127.0.0.1

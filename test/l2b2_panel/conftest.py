"""Fixtures for the panel's tests: the real panel node on a free port, the stand-ins, a headless Chromium."""
from __future__ import annotations

import json
import os
from pathlib import Path
import urllib.error
import urllib.request

import pytest
from rclpy.parameter import Parameter

from l2b2_panel.panel_node import PanelNode

CHROMIUM = os.environ.get('L2B2_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync']


def make_panel(ros, tmp_path: Path, **params) -> PanelNode:
    overrides = {'port': 0, 'users_file': str(tmp_path / 'state' / 'users.json'), 'demo_mode': True,
                 'map_yaml': str(tmp_path / 'no-map.yaml'), 'waypoints_yaml': str(tmp_path / 'no-waypoints.yaml'),
                 **params}
    return ros.add(PanelNode(context=ros.context,
                             parameter_overrides=[Parameter(k, value=v) for k, v in overrides.items()]))


@pytest.fixture
def panel(ros, tmp_path):
    return make_panel(ros, tmp_path)


@pytest.fixture
def panel_factory(ros, tmp_path):
    """``panel_factory(param=value, ...)``: a panel with other parameters."""
    return lambda **params: make_panel(ros, tmp_path, **params)


class Http:
    """A tiny cookie-keeping HTTP client (urllib): what a non-browser attacker or script would use."""

    def __init__(self, base: str):
        self.base = base.rstrip('/')
        self.cookie = ''
        self.csrf = ''

    def request(self, method: str, path: str, body: object = None, headers: dict | None = None):
        data = None if body is None else json.dumps(body).encode()
        h = {'Content-Type': 'application/json', **({'Cookie': self.cookie} if self.cookie else {}),
             **({'X-L2B2-CSRF': self.csrf} if self.csrf else {}), **(headers or {})}
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=15) as r:
                status, raw, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, raw, hdrs = e.code, e.read(), e.headers
        cookie = hdrs.get('Set-Cookie')
        if cookie and cookie.startswith('l2b2_session='):
            self.cookie = cookie.split(';')[0]
        try:
            payload = json.loads(raw or b'{}')
        except ValueError:
            payload = {'raw': raw.decode(errors='replace')}
        return status, payload, hdrs

    def login(self, user: str = 'staff', password: str = 'l2b2-demo') -> int:
        status, payload, _ = self.request('POST', '/api/login', {'user': user, 'password': password})
        self.csrf = payload.get('csrf', '')
        return status


@pytest.fixture(scope='module')
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f'{CHROMIUM} missing: install Debian chromium (requirements/apt-panel.txt)')
    from playwright.sync_api import sync_playwright
    # Playwright gives every launch a fresh temporary --user-data-dir of its own (and removes it).
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def http():
    """``http(panel.url)``: a cookie-keeping client."""
    return Http

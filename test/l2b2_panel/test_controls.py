"""The control table over HTTP: typed bodies (a bad one is a clear 400), and buttons from the catalog."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest
import yaml

from l2b2_common.catalog import load_catalog
from l2b2_common.config import config_path
from l2b2_panel.controls import CONTROLS


@pytest.mark.parametrize(('name', 'body', 'says'), [
    ('pause', {'pause': 'yes'}, '"pause"'),                       # a string is not a boolean
    ('pause', {}, '"pause" is required'),
    ('takeover', {'enable': 1}, '"enable"'),
    ('resume', {'confirm': False}, '"confirm"'),
    ('say', {'text': '   ', 'language': 'tr'}, '1-300 characters'),
    ('say', {'text': 'Merhaba', 'language': 'en'}, '"language"'),
    ('send', {'target_id': 'meldestelle', 'speed': 9}, 'unknown field "speed"'),
    ('reset', {'now': True}, 'unknown field "now"'),
    ('reset', [1, 2], 'JSON object'),
    ('stay_out', {}, '"enable" is required'),
    ('stay_out', {'enable': 'true'}, '"enable"'),
    ('dock_now', {'force': True}, 'unknown field "force"'),
    ('clear_fault', {'fault': 'dock_failed'}, 'unknown field "fault"'),
])
def test_a_bad_body_is_a_clear_400_and_nothing_acts(panel, http, name, body, says):
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', f'/api/control/{name}', body)
    assert status == 400 and says in payload['error'] and payload['error'].startswith(name), payload
    assert [e['action'] for e in panel.audit.recent()] == ['login']


def test_broken_json_and_unknown_controls(panel, http):
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', '/api/control/reset', None,
                                        headers={'Content-Type': 'application/json'})
    assert status == 503  # no body is an empty one: the dialogue is simply not there
    assert client.request('POST', '/api/control/reboot', {})[0] == 404
    assert set(CONTROLS) == {'estop', 'resume', 'send', 'cancel', 'pause', 'say', 'language', 'takeover', 'reset',
                             'ack_alert', 'stay_out', 'dock_now', 'clear_fault'}


def hello_targets(url: str) -> list[dict]:
    async def go():
        async with aiohttp.ClientSession() as s, s.ws_connect(url.rstrip('/') + '/ws/visitor') as ws:
            return (await ws.receive_json(timeout=10))['targets']
    return asyncio.run(go())


def test_a_department_added_to_the_catalog_gets_its_visitor_button(panel_factory, http, tmp_path):
    """No code change: a city adds a target in departments.yaml, the visitor screen offers it."""
    data = yaml.safe_load(config_path('departments.yaml').read_text(encoding='utf-8'))
    data['targets'].append({
        'id': 'wohngeld', 'waypoint': 'wohngeld', 'opening_hours': 'always',
        'name': {'de': 'Wohngeldstelle', 'tr': 'Konut Yardımı Bürosu', 'en': 'Housing benefit'},
        'keywords': {'de': ['Wohngeld'], 'tr': ['konut yardımı']},
        'appointment': {'scope_id': 909, 'printer_hash': 'ffff0000ffff0909'}})
    catalog = tmp_path / 'departments.yaml'
    catalog.write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    assert 'wohngeld' in load_catalog(catalog)
    panel = panel_factory(catalog=str(catalog))
    targets = {t['id']: t for t in hello_targets(panel.url)}
    assert targets['wohngeld']['name']['tr'] == 'Konut Yardımı Bürosu' and targets['wohngeld']['appointments']
    assert list(targets) == load_catalog(catalog).ids()
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('GET', '/api/map')
    assert status == 200 and 'wohngeld' in {t['id'] for t in payload['targets']}

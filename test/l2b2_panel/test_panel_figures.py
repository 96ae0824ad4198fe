"""The office's figures on the staff panel (issue 16, item 4), without a browser: the real panel node's aiohttp
app over HTTP, reading a real SQLite figures database written by ``l2b2_office.figures.FiguresStore``.

Rows per hour, day and month and the monthly summary are what was recorded (and what the Prometheus
collector counts); the CSV is an attachment with a header; no database yet is zeros; staff only; a bad query
is a 400 naming the key, a file that is no figures database a 503 naming the file; the answers hold counts
only. Also the vendored Chart.js: the pin, the file, nothing loaded from the internet, the CSP."""
from __future__ import annotations

import ast
import csv
from datetime import datetime
from fnmatch import fnmatch
import hashlib
import io
import json
import re
import sqlite3

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
import pytest

from l2b2_common.catalog import LANGUAGES, load_catalog
from l2b2_common.config import REPO_ROOT
from l2b2_office.figures import (
    ALERT_KINDS,
    ESCORT_OUTCOMES,
    INTENTS,
    PLAIN_COUNTERS,
    FiguresCollector,
    FiguresStore,
    database_path,
)
from l2b2_panel.figures_routes import MAX_DAYS

BERLIN = 'Europe/Berlin'
WEB = REPO_ROOT / 'l2b2_panel' / 'web'
VENDOR = WEB / 'vendor'
ROUTES = ('/api/figures?period=day&start=2026-03-01&end=2026-03-31', '/api/figures/month?year=2026&month=3',
          '/api/figures.csv?period=hour&start=2026-03-02')

# (day of March 2026, hour, visitors greeted); conversations, languages, departments... follow from it.
PLAN = [(2, 9, 4), (2, 10, 1), (2, 15, 2), (5, 8, 3), (17, 11, 6), (31, 16, 2)]


def at(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2026):
    from zoneinfo import ZoneInfo
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(BERLIN))


def record(path) -> None:
    """A month of an office's figures (and some outside it), written as the figures node writes them."""
    with FiguresStore(path, departments=load_catalog().ids(), timezone=BERLIN) as store:
        for day, hour, n in PLAN:
            store.add('greeted', at=at(day, hour, 5), n=n)
            for i in range(n):
                store.add('conversations', at=at(day, hour, 10))
                store.add('language', ('de', 'tr', 'en')[i % 3], at=at(day, hour, 10))
                store.add('intent', 'escort' if i % 2 == 0 else 'ticket', at=at(day, hour, 11))
            store.add('department', 'meldestelle', at=at(day, hour, 20))
            store.add('escort', 'succeeded', at=at(day, hour, 30))
            store.add_answer_time(300 + 100 * hour, at=at(day, hour, 31))
        store.add('department', 'pass_ausweis', at=at(17, 11, 40))
        store.add('escort', 'visitor_lost', at=at(17, 11, 45))
        store.add('checkins', at=at(2, 9, 50), n=2)
        store.add('tickets', at=at(5, 8, 50))
        store.add('not_understood', at=at(31, 16, 50))
        store.add('alert', 'estop', at=at(17, 11, 50))
        store.add('greeted', at=at(28, 12, month=2), n=7)   # February: outside the month
        store.add('greeted', at=at(1, 0, month=4), n=9)     # April: outside too


def greeted_on(day: int) -> int:
    return sum(n for d, _, n in PLAN if d == day)


TOTAL = sum(n for _, _, n in PLAN)  # 18 visitors greeted in March


@pytest.fixture
def database(tmp_path):
    path = tmp_path / 'figures' / 'office_figures.sqlite'
    record(path)
    return path


@pytest.fixture
def staff(panel_factory, http, database):
    """A staff session on a panel that reads ``database``."""
    panel = panel_factory(figures_database=str(database))
    client = http(panel.url)
    assert client.login() == 200
    return client


def get(client, path):
    status, payload, headers = client.request('GET', path)
    assert status == 200, (path, status, payload)
    return payload, headers


# --- what was recorded ------------------------------------------------------------------------------------------
def test_rows_per_hour_day_and_month_are_what_was_recorded(staff, database):
    days, _ = get(staff, '/api/figures?period=day&start=2026-03-01&end=2026-03-31')
    assert days['available'] is True and days['period'] == 'day'
    assert (days['start'], days['end']) == ('2026-03-01', '2026-03-31')
    assert [r['period'] for r in days['rows']] == [f'2026-03-{d:02d}' for d in range(1, 32)]  # zeros included
    assert {int(r['period'][8:]): r['counts']['greeted'] for r in days['rows']} == \
        {d: greeted_on(d) for d in range(1, 32)}
    assert days['columns'] == list(days['rows'][0]['counts'])
    assert set(PLAIN_COUNTERS) <= set(days['columns'])
    assert sum(r['counts']['conversations'] for r in days['rows']) == TOTAL
    by_day = {r['period']: r for r in days['rows']}
    assert by_day['2026-03-02']['counts']['checkins'] == 2 and by_day['2026-03-17']['counts']['alert_estop'] == 1
    assert by_day['2026-03-02']['answers'] == 3 and by_day['2026-03-03']['median_answer_ms'] is None

    hours, _ = get(staff, '/api/figures?period=hour&start=2026-03-02')  # end defaults to start
    assert [r['period'] for r in hours['rows']] == [f'2026-03-02T{h:02d}' for h in range(24)]
    assert {r['period'][11:]: r['counts']['greeted'] for r in hours['rows'] if r['counts']['greeted']} == \
        {'09': 4, '10': 1, '15': 2}
    nine = hours['rows'][9]
    assert nine['counts']['language_de'] == 2 and nine['counts']['language_tr'] == 1
    assert nine['counts']['language_en'] == 1 and nine['answers'] == 1
    # One answer at 09 took 1200 ms: its bucket is 1000-1500 ms, the median is read within it.
    assert 1000 <= nine['median_answer_ms'] <= 1500

    months, _ = get(staff, '/api/figures?period=month&start=2026-02-01&end=2026-04-30')
    assert [(r['period'], r['counts']['greeted']) for r in months['rows']] == \
        [('2026-02', 7), ('2026-03', TOTAL), ('2026-04', 9)]
    # The same counts the Prometheus collector reports over the whole file.
    registry = CollectorRegistry()
    with FiguresStore(database, readonly=True) as store:
        registry.register(FiguresCollector(store))
        scraped = {(s.name, tuple(s.labels.items())): s.value
                   for f in text_string_to_metric_families(generate_latest(registry).decode()) for s in f.samples}
    assert scraped[('l2b2_visitors_greeted_total', ())] == sum(r['counts']['greeted'] for r in months['rows'])
    assert scraped[('l2b2_conversations_total', ())] == sum(r['counts']['conversations'] for r in months['rows'])


def test_the_month_summary_is_the_sum_of_its_days(staff):
    month, _ = get(staff, '/api/figures/month?year=2026&month=3')
    days, _ = get(staff, '/api/figures?period=day&start=2026-03-01&end=2026-03-31')
    s = month['summary']
    assert month['available'] is True and s['month'] == '2026-03'
    assert s['visitors_greeted'] == TOTAL == sum(r['counts']['greeted'] for r in days['rows'])
    assert s['conversations'] == TOTAL
    assert s['languages'] == {'de': 8, 'tr': 6, 'en': 4}
    assert s['intents'] == {'escort': 10, 'ticket': 8}
    assert s['departments'] == {'meldestelle': len(PLAN), 'pass_ausweis': 1}
    assert s['escorts'] == {**dict.fromkeys(ESCORT_OUTCOMES, 0), 'succeeded': len(PLAN), 'visitor_lost': 1}
    assert (s['checkins'], s['tickets'], s['not_understood']) == (2, 1, 1)
    assert s['alerts'] == {'estop': 1}
    assert s['answers'] == len(PLAN) and s['median_answer_ms'] > 0
    assert s['days_with_visitors'] == len({d for d, _, _ in PLAN}) == 4
    # "month=03" is the same month; another month has its own sum.
    assert get(staff, '/api/figures/month?year=2026&month=03')[0] == month
    assert get(staff, '/api/figures/month?year=2026&month=2')[0]['summary']['visitors_greeted'] == 7


def test_the_csv_is_an_attachment_with_a_header_and_a_row_per_period(staff):
    status, payload, headers = staff.request('GET', '/api/figures.csv?period=day&start=2026-03-01&end=2026-03-31')
    assert status == 200
    assert headers['Content-Type'].startswith('text/csv') and 'charset=utf-8' in headers['Content-Type']
    assert headers['Content-Disposition'] == 'attachment; filename="l2b2-figures-day-2026-03-01-2026-03-31.csv"'
    assert headers['Cache-Control'] == 'no-store' and "default-src 'self'" in headers['Content-Security-Policy']
    rows = list(csv.reader(io.StringIO(payload['raw'])))
    header, body = rows[0], rows[1:]
    assert header[0] == 'day' and header[-2:] == ['answers', 'median_answer_ms']
    assert {'greeted', 'conversations', 'language_de', 'escort_succeeded'} <= set(header)
    assert [r[0] for r in body] == [f'2026-03-{d:02d}' for d in range(1, 32)]
    greeted = header.index('greeted')
    assert [int(r[greeted]) for r in body] == [greeted_on(d) for d in range(1, 32)]
    assert all(len(r) == len(header) for r in body)

    status, payload, headers = staff.request('GET', '/api/figures.csv?period=hour&start=2026-03-02')
    assert status == 200 and headers['Content-Disposition'] == 'attachment; filename="l2b2-figures-hour-2026-03-02.csv"'
    rows = list(csv.reader(io.StringIO(payload['raw'])))
    assert rows[0][0] == 'hour' and len(rows) == 1 + 24 and rows[10][0] == '2026-03-02T09'
    assert rows[10][rows[0].index('greeted')] == '4'


def test_no_database_yet_answers_zeros_and_says_so(panel_factory, http, tmp_path):
    missing = tmp_path / 'not-yet' / 'office_figures.sqlite'
    panel = panel_factory(figures_database=str(missing))
    client = http(panel.url)
    assert client.login() == 200
    days, _ = get(client, '/api/figures?period=day&start=2026-03-01&end=2026-03-31')
    assert days['available'] is False and len(days['rows']) == 31
    assert all(n == 0 for r in days['rows'] for n in r['counts'].values())
    month, _ = get(client, '/api/figures/month?year=2026&month=3')
    assert month['available'] is False and month['summary']['visitors_greeted'] == 0
    assert month['summary']['median_answer_ms'] is None and month['summary']['days_with_visitors'] == 0
    status, payload, headers = client.request('GET', '/api/figures.csv?period=day&start=2026-03-01&end=2026-03-02')
    assert status == 200 and 'attachment' in headers['Content-Disposition']
    assert payload['raw'].splitlines()[1].startswith('2026-03-01,0,0,')
    assert not missing.exists() and not missing.parent.exists()  # reading never creates the file


# --- who may read -----------------------------------------------------------------------------------------------
def test_figures_need_a_staff_session(panel_factory, http, database):
    panel = panel_factory(figures_database=str(database))
    anonymous = http(panel.url)
    for path in ROUTES:
        status, payload, _ = anonymous.request('GET', path)
        assert status == 401 and payload == {'error': 'login required'}, path
    anonymous.cookie = 'l2b2_session=forged'
    assert all(anonymous.request('GET', path)[0] == 401 for path in ROUTES)
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    observer = http(panel.url)
    assert observer.login('olaf', 'only watching') == 200
    for path in ROUTES:
        status, payload, _ = observer.request('GET', path)
        assert status == 403 and payload == {'error': 'staff only'}, path
    staff = http(panel.url)
    assert staff.login() == 200
    assert all(staff.request('GET', path)[0] == 200 for path in ROUTES)
    # Logged out, the figures are closed again.
    assert staff.request('POST', '/api/logout', {})[0] == 200
    assert staff.request('GET', ROUTES[0])[0] == 401


# --- bad requests, bad files ------------------------------------------------------------------------------------
@pytest.mark.parametrize(('path', 'key'), [
    ('/api/figures?period=week&start=2026-03-01', 'period'),
    ('/api/figures?period=day', 'start'),
    ('/api/figures?period=day&start=2026-3-1', 'start'),
    ('/api/figures?period=day&start=2026-02-30', 'start'),
    ('/api/figures?period=day&start=2026-03-01&end=yesterday', 'end'),
    ('/api/figures?period=day&start=2026-03-02&end=2026-03-01', 'end'),
    (f'/api/figures?period=hour&start=2026-01-01&end=2026-{1 + MAX_DAYS["hour"] // 31:02d}-01', 'end'),
    ('/api/figures?period=day&start=2020-01-01&end=2026-01-01', 'end'),
    ('/api/figures.csv?period=minute&start=2026-03-01', 'period'),
    ('/api/figures.csv?period=day&start=2026-03-01T00', 'start'),
    ('/api/figures/month?year=26&month=3', 'year'),
    ('/api/figures/month?year=1999&month=3', 'year'),
    ('/api/figures/month?month=3', 'year'),
    ('/api/figures/month?year=2026&month=13', 'month'),
    ('/api/figures/month?year=2026&month=0', 'month'),
    ('/api/figures/month?year=2026&month=march', 'month'),
    ('/api/figures/month?year=2026', 'month'),
])
def test_a_bad_query_is_a_400_naming_the_key(staff, path, key):
    status, payload, headers = staff.request('GET', path)
    assert status == 400, payload
    assert re.match(rf'^{key}\b', payload['error']), payload['error']
    assert headers['Content-Type'].startswith('application/json')


@pytest.mark.parametrize('content', [b'this is no database, just a file\n' * 40, 'sqlite-no-schema', 'sqlite-other'])
def test_a_file_that_is_no_figures_database_is_a_503_naming_it(panel_factory, http, tmp_path, content):
    path = tmp_path / 'wrong.sqlite'
    if content == 'sqlite-no-schema':  # a SQLite file, but no figures in it
        sqlite3.connect(path).execute('CREATE TABLE visitors (name TEXT)').connection.commit()
    elif content == 'sqlite-other':  # a figures schema version this software does not know
        db = sqlite3.connect(path)
        db.execute('PRAGMA user_version=99')
        db.execute('CREATE TABLE counts (x)')
        db.commit()
        db.close()
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    panel = panel_factory(figures_database=str(path))
    client = http(panel.url)
    assert client.login() == 200
    for route in ROUTES:
        status, payload, _ = client.request('GET', route)
        assert status == 503, (route, payload)
        assert payload['error'].startswith('figures unavailable: ') and str(path) in payload['error'], payload
    assert path.read_bytes() == before  # opened read-only: nothing written into a file that is not ours


def test_a_relative_setting_is_under_the_state_directory(monkeypatch, tmp_path):
    monkeypatch.setenv('L2B2_STATE_DIR', str(tmp_path / 'state'))
    assert database_path('') == tmp_path / 'state' / 'office_figures.sqlite'
    assert database_path('other.sqlite') == tmp_path / 'state' / 'other.sqlite'
    assert database_path(tmp_path / 'x.sqlite') == tmp_path / 'x.sqlite'
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert database_path('~/f.sqlite') == tmp_path / 'home' / 'f.sqlite'


# --- counts only ------------------------------------------------------------------------------------------------
COLUMNS = {*PLAIN_COUNTERS, *(f'language_{x}' for x in LANGUAGES), *(f'intent_{x}' for x in INTENTS),
           *(f'department_{x}' for x in load_catalog().ids()), *(f'escort_{x}' for x in ESCORT_OUTCOMES),
           *(f'alert_{x}' for x in ALERT_KINDS)}
LABELS = {*LANGUAGES, *INTENTS, *load_catalog().ids(), *ESCORT_OUTCOMES, *ALERT_KINDS}
PERIOD = re.compile(r'^\d{4}-\d{2}(-\d{2}(T\d{2})?)?$')
KEYS = {'available', 'period', 'start', 'end', 'columns', 'rows', 'counts', 'answers', 'median_answer_ms', 'summary',
        'month', 'visitors_greeted', 'conversations', 'languages', 'intents', 'departments', 'escorts', 'checkins',
        'tickets', 'not_understood', 'alerts', 'days_with_visitors'}


def only_counts(value, where='') -> None:
    """Every value is a number, a flag, a period or a name of the closed vocabulary; nothing else."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert k in KEYS or k in COLUMNS or k in LABELS, f'{where}: key {k!r}'
            only_counts(v, f'{where}.{k}')
    elif isinstance(value, list):
        for i, v in enumerate(value):
            only_counts(v, f'{where}[{i}]')
    elif isinstance(value, str):
        assert PERIOD.match(value) or value in COLUMNS or value in ('hour', 'day', 'month'), f'{where}: {value!r}'
    else:
        assert value is None or isinstance(value, (int, bool)), f'{where}: {value!r}'


def test_the_answers_hold_nothing_but_counts(staff):
    for path in ('/api/figures?period=hour&start=2026-03-02', '/api/figures?period=day&start=2026-03-01&end=2026-03-31',
                 '/api/figures?period=month&start=2026-01-01&end=2026-12-31', '/api/figures/month?year=2026&month=3'):
        only_counts(get(staff, path)[0], path)
    status, payload, _ = staff.request('GET', '/api/figures.csv?period=hour&start=2026-03-01&end=2026-03-31')
    rows = list(csv.reader(io.StringIO(payload['raw'])))
    assert rows[0][0] == 'hour' and all(c in COLUMNS for c in rows[0][1:-2])
    assert all(PERIOD.match(r[0]) and all(re.fullmatch(r'\d*', c) for c in r[1:]) for r in rows[1:])


# --- the page: texts, CSP, vendored Chart.js --------------------------------------------------------------------
def test_the_three_languages_have_the_same_keys_and_every_figures_key_used():
    texts = {lang: json.loads((WEB / 'i18n' / f'{lang}.json').read_text()) for lang in ('de', 'en', 'tr')}
    for lang in ('en', 'tr'):
        assert set(texts[lang]) == set(texts['de']), (lang, set(texts[lang]) ^ set(texts['de']))
    code = (WEB / 'staff_figures.js').read_text() + (WEB / 'staff.html').read_text()
    used = set(re.findall(r"""['"`](fig_[a-z_]+)['"`]""", code))
    used |= {f'fi_{i}' for i in INTENTS} | {f'eo_{o}' for o in ESCORT_OUTCOMES} | {f'lang_{x}' for x in LANGUAGES}
    assert len(used) > 30
    for lang, table in texts.items():
        assert not used - set(table), (lang, used - set(table))
        assert all(table[k] for k in used), lang
    # staff_figures.js knows the store's vocabulary (intents and escort outcomes it translates).
    js = (WEB / 'staff_figures.js').read_text()
    assert json.loads(re.search(r'const FIG_INTENTS = (\[.*?\]);', js, re.S)[1].replace("'", '"')) == list(INTENTS)
    assert json.loads(re.search(r'const FIG_ESCORTS = (\[.*?\]);', js, re.S)[1].replace("'", '"')) == \
        list(ESCORT_OUTCOMES)


def test_chartjs_is_vendored_at_the_pinned_version():
    pin = json.loads((VENDOR / 'vendor.json').read_text())['chart.js']
    data = (VENDOR / pin['file']).read_bytes()
    assert re.fullmatch(r'\d+\.\d+\.\d+', pin['version'])
    assert f' * Chart.js v{pin["version"]}\n'.encode() in data[:200]
    assert hashlib.sha256(data).hexdigest() == pin['sha256']
    assert pin['integrity'].startswith('sha512-')
    assert b'new Function(' not in data and b'eval(' not in data  # runs under a CSP without 'unsafe-eval'
    assert (VENDOR / 'LICENSE.chartjs.md').read_text().startswith('The MIT License')
    readme = (VENDOR / 'README.md').read_text()
    assert f'**{pin["version"]}**' in readme
    assert f'Chart.js {pin["version"]}' in (REPO_ROOT / 'docs' / 'panel.md').read_text()


def test_no_page_loads_anything_from_the_internet():
    pages = [p for p in WEB.rglob('*') if p.suffix in ('.html', '.js', '.css') and VENDOR not in p.parents]
    assert {p.name for p in pages} >= {'staff.html', 'visitor.html', 'staff.js', 'staff_figures.js', 'style.css'}
    external = re.compile(r'''https?://|(src|href|action)\s*=\s*["']?//|url\(\s*["']?//|@import''', re.I)
    for page in pages:
        assert not external.search(page.read_text()), (page, external.search(page.read_text()))
    html = (WEB / 'staff.html').read_text()
    scripts = re.findall(r'<script\b([^>]*)>(.*?)</script>', html, re.S)
    assert scripts and all(body.strip() == '' and re.search(r'src="/static/', attrs) for attrs, body in scripts)
    assert '<script src="/static/vendor/chart.umd.min.js"></script>' in html
    assert html.index('vendor/chart.umd.min.js') < html.index('staff_figures.js')
    assert not re.search(r'<style\b|\sstyle=|\son[a-z]+=', html)  # nothing inline the CSP would refuse


def test_the_vendored_file_is_installed_with_the_package():
    tree = ast.parse((REPO_ROOT / 'setup.py').read_text())
    (call,) = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, 'id', '') == 'setup']
    package_data = ast.literal_eval(next(k.value for k in call.keywords if k.arg == 'package_data'))
    patterns = package_data['l2b2_panel']
    for name in ('chart.umd.min.js', 'vendor.json', 'LICENSE.chartjs.md'):
        assert any(fnmatch(f'web/vendor/{name}', p) for p in patterns), name
    assert any(fnmatch('web/staff_figures.js', p) for p in patterns)


def test_the_csp_allows_the_charts_without_inline_or_eval(panel, http):
    client = http(panel.url)
    status, _, headers = client.request('GET', '/')
    policy = headers['Content-Security-Policy']
    assert status == 200 and "default-src 'self'" in policy
    assert 'unsafe-inline' not in policy and 'unsafe-eval' not in policy
    assert 'script-src' not in policy and 'style-src' not in policy  # both fall back to default-src 'self'
    status, payload, headers = client.request('GET', '/static/vendor/chart.umd.min.js')
    assert status == 200 and 'javascript' in headers['Content-Type'] and headers['X-Content-Type-Options'] == 'nosniff'
    pin = json.loads((VENDOR / 'vendor.json').read_text())['chart.js']
    assert hashlib.sha256(payload['raw'].encode()).hexdigest() == pin['sha256']


def test_hours_and_days_of_a_summer_time_change_add_up(tmp_path, panel_factory, http):
    """29 March 2026: clocks go 02:00 -> 03:00 in Berlin; the day still has 24 rows and its sum."""
    path = tmp_path / 'dst.sqlite'
    with FiguresStore(path, timezone=BERLIN) as store:
        store.add('greeted', at=datetime.fromisoformat('2026-03-29T00:30:00+00:00'), n=2)  # 01:30 CET
        store.add('greeted', at=datetime.fromisoformat('2026-03-29T01:30:00+00:00'), n=3)  # 03:30 CEST
    panel = panel_factory(figures_database=str(path))
    client = http(panel.url)
    assert client.login() == 200
    hours = get(client, '/api/figures?period=hour&start=2026-03-29')[0]['rows']
    assert {r['period'][11:]: r['counts']['greeted'] for r in hours if r['counts']['greeted']} == {'01': 2, '03': 3}
    day = get(client, '/api/figures?period=day&start=2026-03-29')[0]['rows']
    assert [(r['period'], r['counts']['greeted']) for r in day] == [('2026-03-29', 5)]

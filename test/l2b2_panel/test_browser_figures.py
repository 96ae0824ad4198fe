"""The office's figures on the staff page (issue 16, item 4) in a real headless Chromium, under the page's
own Content-Security-Policy, at the tablet's two sizes (1280x800 and 800x1280).

The panel reads a real SQLite figures database written by ``FiguresStore``; the page draws its charts with
the vendored Chart.js (no CDN). Checked: the charts are Chart.js instances that drew bars, the numbers
shown are the database's, choosing a month or a day shows that one, the UI language relabels, the CSV link
downloads the month, nothing in the section is wider than the screen, and the CSP refused nothing."""
from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
import io
import os
from zoneinfo import ZoneInfo

import pytest

from l2b2_common.catalog import load_catalog
from l2b2_office.figures import FiguresStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 20000
OFFICE_TZ = 'Europe/Berlin'
SIZES = [pytest.param({'width': 1280, 'height': 800}, id='landscape'),
         pytest.param({'width': 800, 'height': 1280}, id='portrait')]
SHOTS = os.environ.get('L2B2_FIGURES_SCREENSHOTS', '')  # a directory: screenshots to look at

# Recorded in the browser's time zone, set to the office's (the page picks "this month" by its clock).
CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def wait_js(page, expression: str, arg=None) -> None:
    """As a function, not a string: the page's CSP (no 'unsafe-eval') stays in force."""
    page.wait_for_function(f'(arg) => ({expression})', arg=arg, timeout=TIMEOUT_MS)


def month_key(d: date) -> str:
    return f'{d:%Y-%m}'


def last_day(d: date) -> date:
    return (d.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


class Figures:
    """A figures database with this month and last month in it, and what it holds, read back by the store."""

    def __init__(self, path):
        tz = ZoneInfo(OFFICE_TZ)
        self.path = path
        self.today = datetime.now(tz).date()
        self.month = self.today.replace(day=1)
        self.previous = (self.month - timedelta(days=1)).replace(day=1)
        self.busy_day = self.month.replace(day=2) if self.today.day != 2 else self.month.replace(day=3)
        with FiguresStore(path, departments=load_catalog().ids(), timezone=OFFICE_TZ) as store:
            def visit(day: date, hour: int, n: int, language: str) -> None:
                when = datetime(day.year, day.month, day.day, hour, 20, tzinfo=tz)
                store.add('greeted', at=when, n=n)
                store.add('conversations', at=when, n=n)
                store.add('language', language, at=when, n=n)
                store.add('department', 'meldestelle', at=when)
                store.add('escort', 'succeeded', at=when)
                store.add_answer_time(900 + 50 * hour, at=when)
            for hour, n in ((8, 3), (9, 7), (11, 2), (14, 5)):
                visit(self.busy_day, hour, n, 'tr' if hour % 2 else 'de')
            visit(self.month, 10, 4, 'de')
            visit(self.today, 12, 6, 'en')
            visit(self.previous.replace(day=10), 9, 11, 'de')
            store.add('checkins', at=datetime(self.busy_day.year, self.busy_day.month, self.busy_day.day, 9, tzinfo=tz))
        with FiguresStore(path, readonly=True) as store:
            self.summary = {m: store.month_summary(m.year, m.month) for m in (self.month, self.previous)}
            self.days = {m: [r.counts['greeted'] for r in store.summary('day', m, last_day(m))]
                         for m in (self.month, self.previous)}
            self.hours = {d: [r.counts['greeted'] for r in store.summary('hour', d, d)]
                          for d in (self.month, self.busy_day, self.today)}
        assert self.summary[self.month]['visitors_greeted'] == 17 + 4 + 6


@pytest.fixture
def figures(tmp_path):
    return Figures(tmp_path / 'office_figures.sqlite')


def open_page(browser, panel, size, user='staff', password='l2b2-demo'):
    """The staff page in its own context (the real CSP in force), logged in; console and CSP reports kept."""
    context = browser.new_context(viewport=size, locale='de-DE', timezone_id=OFFICE_TZ, accept_downloads=True)
    page = context.new_page()
    page.console_errors = []
    page.on('console', lambda m: m.type in ('error', 'warning') and page.console_errors.append(m.text))
    page.on('pageerror', lambda e: page.console_errors.append(f'pageerror: {e}'))
    page.add_init_script(CSP_WATCH)
    page.goto(panel.url)
    page.wait_for_selector('#login:not([hidden])', timeout=TIMEOUT_MS)
    wait_js(page, "document.documentElement.lang === 'de'")
    page.fill('#login-user', user)
    page.fill('#login-password', password)
    page.click('#login-submit')
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)
    return page


def chart_values(page, canvas_id: str):
    return page.evaluate("""(id) => { const c = Chart.getChart(document.getElementById(id));
      return c ? {labels: c.data.labels, values: c.data.datasets[0].data, label: c.data.datasets[0].label} : null; }""",
                         canvas_id)


def bar_pixels(page, canvas_id: str) -> int:
    """How many pixels of the canvas are the bars' yellow (#ffd600): the chart drew, not just exists."""
    return page.evaluate("""(id) => { const c = document.getElementById(id);
      if (!c.width || !c.height) return 0;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 230 && d[i + 1] > 190 && d[i + 1] < 230 && d[i + 2] < 40 && d[i + 3] > 200) n++;
      return n; }""", canvas_id)


def wait_month(page, figures: Figures, month: date) -> None:
    """The month's figures are shown: headline total and the day chart's bars are the database's."""
    wait_js(page, """window.l2b2.figures.summary && window.l2b2.figures.summary.month === arg.month
        && document.getElementById('fig-total').textContent === arg.total
        && typeof Chart !== 'undefined' && Chart.getChart(document.getElementById('fig-days-chart'))
        && JSON.stringify(Chart.getChart(document.getElementById('fig-days-chart')).data.datasets[0].data)
           === JSON.stringify(arg.days)""",
            {'month': month_key(month), 'total': str(figures.summary[month]['visitors_greeted']),
             'days': figures.days[month]})


def wait_day(page, figures: Figures, day: date) -> None:
    wait_js(page, """window.l2b2.figures.day === arg.day && Chart.getChart(document.getElementById('fig-hours-chart'))
        && JSON.stringify(Chart.getChart(document.getElementById('fig-hours-chart')).data.datasets[0].data)
           === JSON.stringify(arg.hours)""", {'day': f'{day}', 'hours': figures.hours[day]})


def overflowing(page) -> list[str]:
    """Elements of the figures section reaching past the viewport's left or right edge (and the page's width)."""
    return page.evaluate("""() => {
      const w = document.documentElement.clientWidth, out = [];
      if (document.documentElement.scrollWidth > w) out.push(`page scrollWidth ${document.documentElement.scrollWidth} > ${w}`);
      for (const el of [document.getElementById('figures'), ...document.querySelectorAll('#figures *')]) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if (r.left < -0.5 || r.right > w + 0.5) out.push(`${el.tagName}#${el.id}.${el.className} ${r.left}..${r.right} > ${w}`);
      }
      return out; }""")


def csp_errors(page) -> list[str]:
    reports = page.evaluate('window.__csp')
    return reports + [t for t in page.console_errors
                      if 'Content Security Policy' in t or 'Refused to' in t or t.startswith('pageerror')]


@pytest.mark.parametrize('size', SIZES)
def test_the_figures_section_draws_the_databases_counts(panel_factory, browser, figures, size):
    panel = panel_factory(figures_database=str(figures.path))
    page = open_page(browser, panel, size)
    assert not page.locator('#figures').evaluate('(el) => el.open')
    assert page.evaluate('window.l2b2.figures.load') == 0  # nothing read before the section is opened

    page.click('#figures > summary')
    wait_js(page, 'window.l2b2.figures.loaded >= 1')
    page.select_option('#fig-month', month_key(figures.month))
    wait_month(page, figures, figures.month)
    page.select_option('#fig-day', f'{figures.busy_day}')
    wait_day(page, figures, figures.busy_day)
    page.locator('#figures').scroll_into_view_if_needed()

    # The numbers are the database's.
    s = figures.summary[figures.month]
    assert page.inner_text('#fig-total') == str(s['visitors_greeted'])
    assert page.inner_text('#fig-status') == ''  # no "no database", no error
    key = dict(zip(page.locator('#fig-key dt').all_inner_texts(), page.locator('#fig-key dd').all_inner_texts(),
                   strict=True))
    assert key['Gespräche'] == str(s['conversations']) and key['Check-ins'] == str(s['checkins'])
    assert key['Tage mit Besuchern'] == str(s['days_with_visitors'])
    assert key['Antwortzeit (Median)'] == f'{s["median_answer_ms"]} ms'
    languages = dict(zip(page.locator('#fig-languages td:not(.n)').all_inner_texts(),
                         page.locator('#fig-languages td.n').all_inner_texts(), strict=True))
    assert languages == {'Deutsch': str(s['languages']['de']), 'Türkisch': str(s['languages']['tr']),
                         'Englisch': str(s['languages']['en'])}
    assert page.locator('#fig-escorts td').all_inner_texts() == ['angekommen', str(s['escorts']['succeeded'])]

    # The charts are Chart.js's (the vendored file, under the CSP) and drew their bars.
    days = chart_values(page, 'fig-days-chart')
    assert days['values'] == figures.days[figures.month] and days['label'] == 'Begrüßte Besucher'
    assert days['labels'] == [str(d) for d in range(1, last_day(figures.month).day + 1)]
    hours = chart_values(page, 'fig-hours-chart')
    assert hours['values'] == figures.hours[figures.busy_day]
    assert hours['labels'] == [f'{h:02d}' for h in range(24)]
    for canvas in ('fig-days-chart', 'fig-hours-chart'):
        box = page.locator(f'#{canvas}').bounding_box()
        assert box['width'] > 200 and box['height'] > 200, (canvas, box)
        assert bar_pixels(page, canvas) > 100, canvas
    assert page.evaluate("Chart.version") == '4.6.2'
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/figures_de_{size["width"]}x{size["height"]}.png', full_page=True)

    # Nothing in the section is wider than the screen.
    assert overflowing(page) == []

    # Last month, then today: each shows its own counts.
    page.select_option('#fig-month', month_key(figures.previous))
    wait_month(page, figures, figures.previous)
    assert page.inner_text('#fig-total') == '11'
    page.select_option('#fig-month', month_key(figures.month))
    wait_month(page, figures, figures.month)
    page.select_option('#fig-day', f'{figures.today}')
    wait_day(page, figures, figures.today)
    assert chart_values(page, 'fig-hours-chart')['values'][12] >= 6
    # A bar of the day chart is a day to pick: its hours are shown.
    page.locator('#fig-days-chart').scroll_into_view_if_needed()
    x, y = page.evaluate("""() => { const c = Chart.getChart(document.getElementById('fig-days-chart'));
      const bar = c.getDatasetMeta(0).data[0], box = c.canvas.getBoundingClientRect();
      return [box.left + bar.x, box.top + (bar.y + bar.base) / 2]; }""")
    page.mouse.click(x, y)
    wait_day(page, figures, figures.month)
    assert page.input_value('#fig-day') == f'{figures.month}'
    assert overflowing(page) == []
    assert csp_errors(page) == []
    page.context.close()


@pytest.mark.parametrize('size', SIZES)
def test_the_figures_relabel_with_the_ui_language_and_the_csv_downloads(panel_factory, browser, figures, size):
    panel = panel_factory(figures_database=str(figures.path))
    page = open_page(browser, panel, size)
    page.click('#figures > summary')
    page.select_option('#fig-month', month_key(figures.month))
    wait_month(page, figures, figures.month)
    first, last = f'{figures.month}', f'{last_day(figures.month)}'
    assert page.get_attribute('#fig-csv-day', 'href') == f'/api/figures.csv?period=day&start={first}&end={last}'
    assert page.get_attribute('#fig-csv-hour', 'href') == f'/api/figures.csv?period=hour&start={first}&end={last}'

    # Turkish: the section's words, the month's name, the charts' data set.
    page.select_option('#ui-lang', 'tr')
    wait_js(page, "document.getElementById('fig-days-title').textContent === 'Günlere göre karşılanan ziyaretçi'")
    assert page.inner_text('#figures > summary') == 'Ziyaretçi istatistikleri'
    assert page.inner_text('#fig-total-label').endswith(' ayında karşılanan ziyaretçi')
    month_tr = page.evaluate("(k) => new Date(k + 'T12:00').toLocaleDateString('tr-TR', {month: 'long', year: 'numeric'})",
                             first)
    assert page.inner_text('#fig-total-label') == f'{month_tr} ayında karşılanan ziyaretçi'
    assert page.locator('#fig-month option:checked').inner_text() == month_tr
    assert chart_values(page, 'fig-days-chart')['label'] == 'Karşılanan ziyaretçi'
    assert chart_values(page, 'fig-hours-chart')['label'] == 'Karşılanan ziyaretçi'
    assert 'Konuşmalar' in page.locator('#fig-key dt').all_inner_texts()
    assert page.locator('#fig-escorts td').all_inner_texts()[0] == 'varıldı'
    assert page.inner_text('#fig-csv-day') == 'Günlük CSV'
    assert page.inner_text('#fig-total') == str(figures.summary[figures.month]['visitors_greeted'])
    assert overflowing(page) == []  # the longer Turkish words fit too
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/figures_tr_{size["width"]}x{size["height"]}.png', full_page=True)

    page.select_option('#ui-lang', 'en')
    wait_js(page, "document.getElementById('fig-days-title').textContent === 'Visitors greeted per day'")
    assert page.inner_text('#fig-total-label').startswith('visitors greeted in ')
    assert chart_values(page, 'fig-days-chart')['label'] == 'Visitors greeted'
    page.select_option('#ui-lang', 'de')
    wait_js(page, "document.getElementById('fig-days-title').textContent === 'Begrüßte Besucher pro Tag'")
    assert page.inner_text('#fig-csv-day') == 'CSV pro Tag'

    # The CSV link downloads the month, one row per day, the same counts.
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.click('#fig-csv-day')
    download = info.value
    assert download.suggested_filename == f'l2b2-figures-day-{first}-{last}.csv'
    assert download.failure() is None
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding='utf-8').read())))
    assert rows[0][0] == 'day' and [r[0] for r in rows[1:]] == [
        f'{figures.month + timedelta(days=i)}' for i in range(last_day(figures.month).day)]
    greeted = rows[0].index('greeted')
    assert [int(r[greeted]) for r in rows[1:]] == figures.days[figures.month]
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.click('#fig-csv-hour')
    assert info.value.suggested_filename == f'l2b2-figures-hour-{first}-{last}.csv'
    hours = list(csv.reader(io.StringIO(open(info.value.path(), encoding='utf-8').read())))
    assert len(hours) == 1 + 24 * last_day(figures.month).day
    assert csp_errors(page) == []
    page.context.close()


def test_without_a_database_the_section_says_so_and_observers_do_not_see_it(panel_factory, browser, tmp_path):
    panel = panel_factory(figures_database=str(tmp_path / 'none' / 'office_figures.sqlite'))
    page = open_page(browser, panel, {'width': 1280, 'height': 800})
    page.click('#figures > summary')
    wait_js(page, "window.l2b2.figures.loaded >= 1 && window.l2b2.figures.available === false")
    assert page.inner_text('#fig-status') == \
        'Noch keine Zahlen: die Zahlen-Datenbank gibt es noch nicht (läuft l2b2-figures?).'
    assert page.inner_text('#fig-total') == '0'
    assert set(chart_values(page, 'fig-days-chart')['values']) == {0}
    assert csp_errors(page) == []
    page.context.close()

    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    page = open_page(browser, panel, {'width': 1280, 'height': 800}, 'olaf', 'only watching')
    wait_js(page, "document.body.classList.contains('observer')")
    assert page.is_hidden('#figures')
    page.context.close()

"""The office day on both screens in a real headless Chromium (issue 16), against a real rclpy stand-in of the
office node: the staff page's office box (charging, time to full, overrides, dock now only after a
confirmation, retry after a fault) and the visitor screen outside opening hours (when it opens again, in
the visitor's language; the 24/7 pick-up terminal one touch away) and without escorts (directions)."""
from __future__ import annotations

import math
import os

from l2b2_interfaces.msg import ComponentHealth, DialogueState, VisitorInput
import pytest

from l2b2_common.qos import LATCHED, RELIABLE

from .test_panel_office import NEXT_OPENING, OfficeStandIn, office_status

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 15000
SHOTS = os.environ.get('L2B2_OFFICE_SCREENSHOTS', '')  # a directory: screenshots to look at


def wait_js(page, expression: str) -> None:
    """As a function, not a string: the page's CSP (no 'unsafe-eval') stays in force."""
    page.wait_for_function(f'() => ({expression})', timeout=TIMEOUT_MS)


def wait_text(page, selector: str, text: str) -> None:
    page.wait_for_function('([sel, text]) => (document.querySelector(sel) || {}).textContent === text',
                           arg=[selector, text], timeout=TIMEOUT_MS)


def staff_page(panel, browser, width: int, height: int):
    """The staff page in German, logged in as the demo staff user."""
    page = browser.new_context(viewport={'width': width, 'height': height}, locale='de-DE').new_page()
    page.goto(panel.url)
    page.fill('#login-user', 'staff')
    page.fill('#login-password', 'l2b2-demo')
    page.click('#login-submit')
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)
    return page


@pytest.fixture
def office(ros):
    return OfficeStandIn(ros)


def services_ready(panel) -> bool:
    b = panel.bridge
    return all(c.service_is_ready() for c in (b.cli_stay_out, b.cli_dock_now, b.cli_clear_fault))


def test_the_office_box_shows_charging_and_dock_now_needs_a_confirmation(ros, panel, browser, office):
    ros.wait_for(lambda: services_ready(panel), 15, 'the office services')
    page = staff_page(panel, browser, 1400, 900)
    wait_js(page, 'window.l2b2.stream === true && window.l2b2.state !== null')
    assert page.inner_text('#office-phase') == 'keine Meldung vom Bürotag'
    controls = page.locator('#estop').bounding_box(), page.locator('#joystick').bounding_box()

    office.publish(office_status(phase='closed', accepting_escorts=False, reason='office_closed', docked=True,
                                 battery_percent=41.0, charging=True, time_to_full_s=4800.0))
    wait_text(page, '#office-battery', '41 % · ⚡ lädt · voll in 1 h 20 min')
    assert page.inner_text('#office-phase') == 'geschlossen · am Ladedock'
    assert page.inner_text('#office-escorts') == 'keine neuen (Büro geschlossen)'
    assert page.inner_text('#office-override') == 'keiner' and page.inner_text('#office-fault') == '–'
    assert page.is_hidden('#office-retry')
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/office_staff_de.png')
    # No /battery here: the map legend takes the office node's reading, charging included.
    assert page.inner_text('#battery') == '41 % ⚡ lädt'
    assert (page.locator('#estop').bounding_box(), page.locator('#joystick').bounding_box()) == controls

    # Dock now: the first press only asks; the real button is armed after a pause, "keep" sends nothing.
    page.click('#office-dock')
    page.wait_for_selector('#office-dock-ask:not([hidden])', timeout=TIMEOUT_MS)
    assert page.is_disabled('#office-dock-confirm') and page.is_hidden('#office-dock')
    page.click('#office-dock-keep')
    page.wait_for_selector('#office-dock:not([hidden])', timeout=TIMEOUT_MS)
    assert office.calls == []
    page.click('#office-dock')
    page.wait_for_selector('#office-dock-confirm:not([disabled])', timeout=TIMEOUT_MS)
    assert office.calls == []  # asking and arming sent nothing
    page.click('#office-dock-confirm')
    ros.wait_for(lambda: office.calls == [('dock_now',)], 10, 'dock now called once')
    wait_js(page, "document.getElementById('feedback').textContent === 'Erledigt: Andocken angefordert'")
    page.wait_for_selector('#office-dock-ask', state='hidden', timeout=TIMEOUT_MS)
    assert (page.locator('#estop').bounding_box(), page.locator('#joystick').bounding_box()) == controls

    # Stay out toggles: on, then (the node reports it) off again.
    assert page.inner_text('#office-stay-out') == 'Draußen bleiben'
    page.click('#office-stay-out')
    ros.wait_for(lambda: office.calls[-1] == ('stay_out', True), 10, 'stay out')
    office.publish(office_status(override='stay_out', battery_percent=80.0, charging=False, time_to_full_s=math.nan))
    wait_text(page, '#office-stay-out', 'Draußen bleiben beenden')
    assert page.inner_text('#office-override') == 'bleibt draußen (bis zur Freigabe)'
    assert page.inner_text('#office-battery') == '80 %' and page.inner_text('#battery') == '80 %'
    assert page.inner_text('#office-escorts') == 'werden angenommen'
    page.click('#office-stay-out')
    ros.wait_for(lambda: office.calls[-1] == ('stay_out', False), 10, 'released')

    # A failed docking holds the day until staff retry.
    office.publish(office_status(phase='closing', accepting_escorts=False, reason='dock_failed', fault='dock_failed',
                                 battery_percent=55.0))
    page.wait_for_selector('#office-retry:not([hidden])', timeout=TIMEOUT_MS)
    assert page.inner_text('#office-fault') == 'Andocken fehlgeschlagen'
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/office_staff_fault_de.png')
    page.click('#office-retry')
    ros.wait_for(lambda: office.calls[-1] == ('clear_fault',), 10, 'clear fault')

    page.select_option('#ui-lang', 'tr')
    office.publish(office_status(phase='before_opening', accepting_escorts=False, reason='office_closed', docked=True,
                                 battery_percent=90.0, charging=True, time_to_full_s=1500.0))
    wait_text(page, '#office-battery', '90 % · ⚡ şarj oluyor · 25 dk içinde dolu')
    assert page.inner_text('#office-phase') == 'açılıştan önce · şarj istasyonunda'
    assert page.inner_text('#office-dock') == 'Şimdi şarja git …'
    assert len(office.calls) == 4
    page.context.close()


def test_observers_see_the_office_box_without_its_buttons(ros, panel, browser, office):
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    office.publish(office_status(battery_percent=70.0))
    page = browser.new_context(viewport={'width': 1280, 'height': 800}, locale='de-DE').new_page()
    page.goto(panel.url)
    page.fill('#login-user', 'olaf')
    page.fill('#login-password', 'only watching')
    page.click('#login-submit')
    wait_text(page, '#office-battery', '70 %')
    assert page.is_hidden('#office-stay-out') and page.is_hidden('#office-dock')
    page.context.close()


@pytest.fixture
def visitor_stack(ros, panel_factory, office):
    panel = panel_factory(stale_after_s=30.0)
    probe = ros.node()
    inputs: list[VisitorInput] = []
    probe.create_subscription(VisitorInput, '/visitor/input', inputs.append, RELIABLE)
    dialogue = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    return panel, inputs, dialogue


def test_the_visitor_screen_says_when_the_office_opens_again_in_the_visitors_language(ros, browser, office,
                                                                                       visitor_stack):
    panel, inputs, dialogue = visitor_stack
    office.publish(office_status(phase='before_opening', accepting_escorts=False, reason='office_closed', docked=True,
                                 next_opening=NEXT_OPENING, screen=['office_closed', 'next_opening',
                                                                    'pickup_terminal_always_open']))
    page = browser.new_context(viewport={'width': 1280, 'height': 800}).new_page()  # its own CSP in force
    page.goto(panel.url + 'visitor')
    # Before a language is chosen: every language (2026-12-07 is a Monday; the office's time, not the screen's).
    page.wait_for_selector('#office-closed:not([hidden])', timeout=TIMEOUT_MS)
    wait_js(page, "document.querySelectorAll('#office-closed-lines .closed-main').length === 3")
    assert page.locator('#office-closed-lines .closed-main').all_inner_texts() == [
        'Geschlossen – öffnet wieder Montag 07:30 Uhr', 'Kapalı – tekrar açılış: Pazartesi saat 07:30',
        'Closed – opens again Monday 07:30']
    assert page.is_hidden('#no-escort')  # the closed notice says it all
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/office_visitor_welcome.png')

    page.click('#vlang-de')
    ros.wait_for(lambda: inputs and inputs[-1].action == 'start' and inputs[-1].language == 'de', 10, 'start')
    wait_js(page, "document.querySelectorAll('#office-closed-lines .closed-main').length === 1")
    assert page.inner_text('#office-closed-lines .closed-main') == 'Geschlossen – öffnet wieder Montag 07:30 Uhr'
    assert page.inner_text('#office-closed-lines .closed-more') == 'Rund um die Uhr geöffnet, auch jetzt:'
    # The pick-up terminal (opening_hours: always) is one touch away, and still in the department list.
    page.click('#office-closed-targets button[data-target="abholterminal"]')
    ros.wait_for(lambda: inputs[-1].action == 'target' and inputs[-1].value == 'abholterminal', 10, 'pick-up target')
    assert page.inner_text('#office-closed-targets button[data-target="abholterminal"]') == 'Abholterminal für Ausweise'
    assert page.is_visible('#targets button[data-target="abholterminal"]')

    page.click('#v-lang')
    page.click('#vlang-tr')
    ros.wait_for(lambda: inputs[-1].action == 'start' and inputs[-1].language == 'tr', 10, 'start tr')
    wait_text(page, '#office-closed-lines .closed-main', 'Kapalı – tekrar açılış: Pazartesi saat 07:30')
    assert page.locator('#office-closed-lines .closed-main').count() == 1
    assert page.get_attribute('#office-closed-lines .closed-main', 'lang') == 'tr'
    assert page.inner_text('#office-closed-targets button[data-target="abholterminal"]') == 'Kimlik Teslim Terminali'
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/office_visitor_tr.png')

    # Open again, but no escorts (a low battery): the notice goes, the escort answer shows the way instead.
    office.publish(office_status(phase='open', accepting_escorts=False, reason='battery_low', screen=['robot_charging']))
    page.wait_for_selector('#office-closed', state='hidden', timeout=TIMEOUT_MS)
    page.wait_for_selector('#no-escort:not([hidden])', timeout=TIMEOUT_MS)
    assert page.inner_text('#no-escort') == 'Robot şu anda size eşlik edemiyor – yolu ekranda gösteriyor.'
    dialogue.publish(DialogueState(state='confirming', language='tr', last_robot_text='Yolu göstereyim mi?',
                                   choices=['escort', 'no']))
    wait_text(page, '#choices button[data-choice="escort"]', 'Yolu göster')
    page.click('#choices button[data-choice="escort"]')
    ros.wait_for(lambda: inputs[-1].action == 'choice' and inputs[-1].value == 'escort', 10, 'choice')
    # Escorts accepted again: the button is the escort's once more.
    office.publish(office_status(phase='open', accepting_escorts=True))
    page.wait_for_selector('#no-escort', state='hidden', timeout=TIMEOUT_MS)
    wait_js(page, "document.querySelector('#choices button[data-choice=\"escort\"]').textContent !== 'Yolu göster'")
    page.context.close()


def test_the_office_days_health_lines_are_in_the_staffs_language(ros, panel, browser):
    """The office node's, the alerts and figures nodes' and the docking server's own health lines (English on
    /l2b2/health) are shown in the page's language, names of alerts and phases included."""
    health = ros.node('office_health').create_publisher(ComponentHealth, '/l2b2/health', 50)
    page = staff_page(panel, browser, 1280, 800)
    line = '#health li[data-component="{}"]'

    def shown(component: str, level: int, message: str, expected: str) -> None:
        health.publish(ComponentHealth(component=component, level=level, message=message))
        page.wait_for_function(
            '([sel, text]) => { const e = document.querySelector(sel); return !!e && e.textContent.endsWith(text); }',
            arg=[line.format(component), expected], timeout=TIMEOUT_MS)

    shown('office', ComponentHealth.OK, 'open', 'geöffnet')
    shown('office', ComponentHealth.DEGRADED, 'waiting for /battery', 'wartet auf Akkuwerte (/battery)')
    shown('office', ComponentHealth.DEGRADED, 'battery low: charging before new escorts',
          'Akku schwach: lädt, bevor es neue Begleitungen gibt')
    shown('office', ComponentHealth.ERROR, 'dock_failed, battery_critical: staff needed',
          'Personal nötig: Andocken fehlgeschlagen, Akku kritisch')
    shown('office', ComponentHealth.DEGRADED, 'going home failed: 104', 'Fahrt zum Startpunkt gescheitert: 104')
    shown('alerts', ComponentHealth.OK, 'watching', 'überwacht')
    shown('figures', ComponentHealth.OK, 'counting', 'zählt')
    shown('docking_server', ComponentHealth.DEGRADED, 'docking failed: no charge', 'Andocken gescheitert: no charge')
    shown('docking_server', ComponentHealth.OK, 'dock at (6.00, 5.10), staging at (6.00, 4.00)',
          'Ladedock bei (6.00, 5.10)')
    # An unknown line stays as the node wrote it.
    shown('office', ComponentHealth.DEGRADED, 'something new', 'something new')
    page.select_option('#ui-lang', 'tr')
    shown('office', ComponentHealth.OK, 'closing', 'kapanıyor')
    shown('office', ComponentHealth.DEGRADED, 'battery low: charging before new escorts',
          'akü zayıf: yeni eşlik öncesi şarj oluyor')
    page.context.close()

"""Staff alerts on the staff page in a real headless Chromium: listed in the page's language, beeping
until acknowledged, silent but listed while the condition lasts, then in the history."""
from __future__ import annotations

import os
import time

from builtin_interfaces.msg import Time
from l2b2_interfaces.msg import ComponentHealth, StaffAlert, StaffAlerts
from l2b2_interfaces.srv import AcknowledgeAlert
import pytest

from l2b2_common.qos import LATCHED
from l2b2_dialogue.checkin import CHECKIN_ALERT
from l2b2_panel.robot_bridge import ALERT_ACK_SERVICE, ALERTS_TOPIC

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 15000
RAISED = time.time() - 120.0
SHOTS = os.environ.get('L2B2_ALERT_SCREENSHOTS', '')  # a directory: screenshots to look at


def alert(alert_id: str, kind: str, severity: int, source: str, *, acknowledged_by: str = '',
          active: bool = True) -> StaffAlert:
    msg = StaffAlert(id=alert_id, kind=kind, severity=severity, source=source, text=f'{kind} ({source}).',
                     raised=Time(sec=int(RAISED)), active=active, acknowledged=bool(acknowledged_by),
                     acknowledged_by=acknowledged_by)
    if acknowledged_by:
        msg.acknowledged_at = Time(sec=int(time.time()))
    return msg


ESTOP = dict(alert_id='estop-3', kind='estop', severity=StaffAlert.CRITICAL, source='safety_gate')
CHECKIN = dict(alert_id='checkin_failures-2', kind='checkin_failures', severity=StaffAlert.WARNING, source='dialogue')


@pytest.fixture
def alerts_node(ros):
    """A stand-in of the alerts node: a latched /office/alerts and /office/acknowledge_alert (recorded)."""
    node = ros.node('alerts_stand_in')
    pub = node.create_publisher(StaffAlerts, ALERTS_TOPIC, LATCHED)
    requests: list[tuple[str, str]] = []

    def on_ack(request, response):
        requests.append((request.id, request.user))
        response.success, response.message = True, 'acknowledged'
        return response
    node.create_service(AcknowledgeAlert, ALERT_ACK_SERVICE, on_ack)

    def publish(*alerts: StaffAlert) -> None:
        pub.publish(StaffAlerts(alerts=list(alerts)))
    return publish, requests


def item(page, alert_id: str, part: str = '') -> str:
    return page.locator(f'#alert-list li[data-id="{alert_id}"] {part}'.strip()).inner_text(timeout=TIMEOUT_MS)


def wait_js(page, expression: str) -> None:
    """As a function, not a string: the page's CSP (no 'unsafe-eval') stays in force."""
    page.wait_for_function(f'() => ({expression})', timeout=TIMEOUT_MS)


def test_alerts_sound_until_acknowledged_then_stay_silent_and_in_the_history(ros, panel, browser, alerts_node):
    publish, requests = alerts_node
    # The page's real Content-Security-Policy: the beeps are generated in the page, nothing is loaded.
    page = browser.new_context(viewport={'width': 1400, 'height': 900}, locale='de-DE').new_page()
    page.goto(panel.url)
    page.fill('#login-user', 'staff')
    page.fill('#login-password', 'l2b2-demo')
    page.click('#login-submit')  # the click that lets the page play sound
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)
    wait_js(page, 'window.l2b2.stream === true && window.l2b2.state !== null')
    assert page.evaluate('window.l2b2.alertSound.playing') is False and page.is_hidden('#alerts')
    controls = page.locator('#estop').bounding_box(), page.locator('#joystick').bounding_box()

    publish(alert(**ESTOP), alert(**CHECKIN))
    page.wait_for_selector('#alert-list li[data-id="estop-3"]', timeout=TIMEOUT_MS)
    # Listed in the status column: a stop raising its alert moves no control under a finger.
    assert (page.locator('#estop').bounding_box(), page.locator('#joystick').bounding_box()) == controls
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/alerts_de.png')
    assert item(page, 'estop-3', '.text') == 'Not-Halt ausgelöst'
    assert item(page, 'checkin_failures-2', '.text') == 'Wiederholt fehlgeschlagenes Einchecken am Roboter'
    assert item(page, 'estop-3', '.sev') == 'KRITISCH' and item(page, 'checkin_failures-2', '.sev') == 'WARNUNG'
    assert item(page, 'estop-3', '.meta').startswith('Sicherheitsschaltung · ')
    assert page.get_attribute('#alert-list li[data-id="estop-3"]', 'class') == 'alert critical'
    wait_js(page, 'window.l2b2.alertSound.playing === true && window.l2b2.alertSound.critical === true')
    # The login click started the AudioContext: the beeps really go to the speaker.
    wait_js(page, 'window.l2b2.alertSound.unlocked && window.l2b2.alertSound.beeps >= 3')
    assert page.is_hidden('#alert-sound-locked')

    page.select_option('#ui-lang', 'tr')
    wait_js(page, "document.querySelector('#alert-list li[data-id=\"estop-3\"] .text').textContent === 'Acil durdurma etkin'")
    assert item(page, 'checkin_failures-2', '.text') == 'Robotta tekrarlanan check-in hataları'
    assert item(page, 'estop-3', 'button.ack') == 'Onayla'

    page.click('#alert-list li[data-id="estop-3"] button.ack')
    ros.wait_for(lambda: requests == [('estop-3', 'staff')], 10, 'acknowledgement by the logged-in user')
    wait_js(page, "document.getElementById('feedback').textContent.includes('Alarm onaylandı')")
    # Still unacknowledged on the node's list: the page keeps sounding until the node says otherwise.
    assert page.evaluate('window.l2b2.alertSound.playing') is True

    # The node's answer: the stop is acknowledged but still engaged; the check-in alert is acknowledged too.
    publish(alert(**ESTOP, acknowledged_by='staff'), alert(**CHECKIN, acknowledged_by='anna'))
    wait_js(page, 'window.l2b2.alertSound.playing === false')
    if SHOTS:
        page.screenshot(path=f'{SHOTS}/alerts_acknowledged_tr.png')
    assert page.evaluate('beepTimer') is None  # no further beeps are scheduled
    page.wait_for_selector('#alert-list li.acked[data-id="estop-3"]', timeout=TIMEOUT_MS)
    assert page.locator('#alert-list button.ack').count() == 0
    assert item(page, 'estop-3', '.status') == 'hâlâ devam ediyor, staff tarafından onaylandı'
    page.select_option('#ui-lang', 'de')
    wait_js(page, "document.querySelector('#alert-list li[data-id=\"estop-3\"] .status').textContent === "
                  "'besteht weiterhin, quittiert von staff'")

    # Released: the list empties, the history (collapsed until opened) keeps both.
    publish()
    page.wait_for_selector('#alerts', state='hidden', timeout=TIMEOUT_MS)
    assert page.is_hidden('#alert-history-list')
    page.click('#alert-history summary')
    page.wait_for_selector('#alert-history-list li[data-id="estop-3"]', timeout=TIMEOUT_MS)
    assert page.inner_text('#alert-history-count') == '2'
    estop = page.inner_text('#alert-history-list li[data-id="estop-3"]')
    assert 'Not-Halt ausgelöst (Sicherheitsschaltung)' in estop and estop.endswith('beendet, quittiert von staff')
    assert 'Einchecken' in page.inner_text('#alert-history-list li[data-id="checkin_failures-2"]')
    assert page.evaluate('window.l2b2.alertSound.playing') is False
    page.context.close()


def test_a_new_alert_after_acknowledged_ones_sounds_again_and_observers_cannot_acknowledge(
        ros, panel, browser, alerts_node):
    publish, requests = alerts_node
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    publish(alert(**ESTOP, acknowledged_by='staff'))
    page = browser.new_context(viewport={'width': 1280, 'height': 800}, locale='de-DE').new_page()
    page.goto(panel.url)
    page.fill('#login-user', 'olaf')
    page.fill('#login-password', 'only watching')
    page.click('#login-submit')
    page.wait_for_selector('#alert-list li.acked[data-id="estop-3"]', timeout=TIMEOUT_MS)
    assert page.evaluate('window.l2b2.alertSound.playing') is False  # acknowledged: listed, silent
    publish(alert('node_missing-4', 'node_missing', StaffAlert.WARNING, 'tts'), alert(**ESTOP, acknowledged_by='staff'))
    page.wait_for_selector('#alert-list li[data-id="node_missing-4"]', timeout=TIMEOUT_MS)
    wait_js(page, 'window.l2b2.alertSound.playing === true && window.l2b2.alertSound.critical === false')
    assert item(page, 'node_missing-4', '.text') == 'Komponente meldet sich nicht mehr oder fällt wiederholt aus'
    assert item(page, 'node_missing-4', '.meta').startswith('Sprachausgabe · ')
    # The unacknowledged one first; an observer sees it but has no button to acknowledge it.
    assert page.locator('#alert-list li').first.get_attribute('data-id') == 'node_missing-4'
    assert page.is_hidden('#alert-list li[data-id="node_missing-4"] button.ack')
    assert requests == []
    # The dialogue's own report of the same (its health line) is in the staff's language too.
    health = ros.node('dialogue_health').create_publisher(ComponentHealth, '/l2b2/health', 50)
    health.publish(ComponentHealth(component='dialogue', level=ComponentHealth.DEGRADED, message=CHECKIN_ALERT))
    page.wait_for_selector('#health li[data-component="dialogue"]', timeout=TIMEOUT_MS)
    assert page.inner_text('#health li[data-component="dialogue"]') == \
        'Dialog: Wiederholt fehlgeschlagenes Einchecken am Roboter'
    page.context.close()

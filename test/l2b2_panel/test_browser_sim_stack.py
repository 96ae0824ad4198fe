"""Both screens in headless Chromium against the whole simulated stack started by the real launcher.

No stand-ins: the visitor's touches go through the real dialogue and queue bridge to the embedded
appointment server, and staff drive the simulated robot through the real escort, navigator and
safety gate. What the other browser tests prove screen by screen, this proves end to end.
"""
from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60000  # the whole stack shares 2 cores with the browser

_spec = importlib.util.spec_from_file_location(
    'l2b2_bringup_stack_files', Path(__file__).parents[1] / 'l2b2_bringup' / 'stack_files.py')
stack_files = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stack_files)


@pytest.fixture(scope='module')
def stack(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('browser_stack')
    path, port = stack_files.test_stack_file(tmp_path)
    log = open(tmp_path / 'launch.log', 'w+')
    launcher = stack_files.start_launcher(path, log)
    try:
        yield {'url': f'http://127.0.0.1:{port}/', 'log': tmp_path / 'launch.log'}
    finally:
        stack_files.stop_everything(launcher)
        log.close()


def open_page(browser, url, wait_for_server):
    page = browser.new_context(bypass_csp=True, viewport={'width': 1400, 'height': 900}).new_page()

    def loads():
        try:
            page.goto(url, timeout=5000)
            return True
        except Exception:  # noqa: BLE001 - the panel is not listening yet
            return False
    wait_for_server(loads, 180, f'the panel at {url}')
    return page


def pose(page) -> tuple[float, float]:
    return tuple(page.evaluate('[window.l2b2.state.robot.pose.x, window.l2b2.state.robot.pose.y]'))


def test_visitor_draws_a_real_waiting_number_by_touch(ros, stack, browser):
    page = open_page(browser, stack['url'] + 'visitor', ros.wait_for)
    # The dialogue is up once its latched state reaches the page (before that a touch would be lost).
    page.wait_for_function('window.l2b2.state && window.l2b2.state.online && window.l2b2.state.dialogue '
                           '&& window.l2b2.state.dialogue.state', timeout=180000)
    assert page.is_hidden('#offline')
    page.click('#vlang-tr')
    page.wait_for_selector('#sub-robot:not(:empty)', timeout=TIMEOUT_MS)
    page.click('#v-ticket')
    page.click('#ticket-targets button[data-target="standesamt"]')
    # A number drawn from the embedded appointment server, through the queue bridge and the dialogue.
    page.wait_for_function("/\\d/.test(document.getElementById('display-number').textContent)", timeout=TIMEOUT_MS)
    number = page.inner_text('#display-number')
    # The robot says it, in Turkish: the subtitle shows the sentence spoken now, so it follows the number
    # once the greeting (espeak, slower on a loaded machine) has been spoken.
    page.wait_for_function('s => document.getElementById("sub-robot").textContent.includes(s)',
                           arg=f'Sıra numaranız {number}.', timeout=TIMEOUT_MS)
    page.context.close()


def test_staff_send_the_simulated_robot_and_stop_it(ros, stack, browser):
    page = open_page(browser, stack['url'], ros.wait_for)
    page.fill('#login-user', 'staff')
    page.fill('#login-password', 'l2b2-demo')
    page.click('#login-submit')
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)
    page.wait_for_function('window.l2b2.floor !== null && window.l2b2.state.robot.pose !== null', timeout=180000)
    start = pose(page)
    page.select_option('#send-target', 'wc')
    page.click('#send-go')
    # The simulated robot drives: the live map shows it leave its home spot and a planned path.
    page.wait_for_function(f'''() => {{
      const p = window.l2b2.state.robot.pose;
      return Math.hypot(p.x - {start[0]}, p.y - {start[1]}) > 0.5;
    }}''', timeout=TIMEOUT_MS)
    page.locator('#estop').hover()
    page.mouse.down()
    page.mouse.up()
    page.wait_for_selector('#estop-state:not([hidden])', timeout=TIMEOUT_MS)
    page.wait_for_function("window.l2b2.state.robot.mode === 'estop'", timeout=TIMEOUT_MS)
    stopped = pose(page)

    def at_rest():  # the same pose over ten more live updates
        before, n = pose(page), page.evaluate('window.l2b2.msgCount')
        page.wait_for_function(f'window.l2b2.msgCount > {n} + 10', timeout=TIMEOUT_MS)
        return math.dist(before, pose(page)) < 0.005
    ros.wait_for(at_rest, 30, 'the robot at rest after the emergency stop')
    assert math.dist(stopped, pose(page)) < 0.5  # braking distance, not a robot driving on
    page.click('#resume')
    page.click('#resume-confirm')
    page.wait_for_selector('#estop-state[hidden]', state='attached', timeout=TIMEOUT_MS)
    page.context.close()

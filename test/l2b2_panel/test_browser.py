"""Both screens in a real headless Chromium against the panel and real rclpy stand-ins of the stack."""
from __future__ import annotations

from geometry_msgs.msg import Twist
from l2b2_interfaces.msg import DialogueState, RecognizedSpeech, SafetyState, SayRequest, VisitorInput
import pytest
from std_msgs.msg import Empty

from l2b2_common.qos import LATCHED, RELIABLE
from l2b2_navigation.safety_gate_node import SafetyGateNode
from l2b2_panel.stand_ins import StandInBase, stand_in_escort

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 15000


def write_map(tmp_path):
    """A 10 m x 6 m hall with walls, in Nav2 map_server format, plus waypoints."""
    w, h = 200, 120
    rows = []
    for r in range(h):
        rows.append(bytes(0 if r < 3 or r >= h - 3 or c < 3 or c >= w - 3 else 254 for c in range(w)))
    (tmp_path / 'hall.pgm').write_bytes(f'P5\n{w} {h}\n255\n'.encode() + b''.join(rows))
    (tmp_path / 'hall.yaml').write_text('image: hall.pgm\nresolution: 0.05\norigin: [-1.0, -3.0, 0.0]\n'
                                        'negate: 0\noccupied_thresh: 0.65\nfree_thresh: 0.196\nmode: trinary\n')
    (tmp_path / 'wp.yaml').write_text('waypoints:\n  home: {x: 0.0, y: 0.0, yaw: 0.0}\n'
                                      '  meldestelle: {x: 7.0, y: 1.5, yaw: 0.0}\n'
                                      '  standesamt: {x: 7.0, y: -1.5, yaw: 0.0}\n')
    return {'map_yaml': str(tmp_path / 'hall.yaml'), 'waypoints_yaml': str(tmp_path / 'wp.yaml')}


@pytest.fixture
def sim(ros, panel_factory, tmp_path):
    panel = panel_factory(**write_map(tmp_path), stale_after_s=30.0)
    gate = ros.add(SafetyGateNode(context=ros.context))
    escort = ros.add(stand_in_escort(context=ros.context))
    base = ros.add(StandInBase(context=ros.context))
    probe = ros.node()
    seen = {'cmd': [], 'stop': [], 'say': [], 'safety': []}
    probe.create_subscription(Twist, '/cmd_vel', seen['cmd'].append, RELIABLE)
    probe.create_subscription(Empty, '/speech/stop', seen['stop'].append, RELIABLE)
    probe.create_subscription(SayRequest, '/speech/say', seen['say'].append, RELIABLE)
    probe.create_subscription(SafetyState, '/safety/state', seen['safety'].append, LATCHED)
    ros.wait_for(lambda: panel.bridge.escort.server_is_ready() and panel.bridge.cli_estop.service_is_ready(), 15, 'stand-ins')
    return {'panel': panel, 'gate': gate, 'escort': escort, 'base': base, 'seen': seen}


def login(page, url):
    page.goto(url)
    page.fill('#login-user', 'staff')
    page.fill('#login-password', 'l2b2-demo')
    page.click('#login-submit')
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)
    page.wait_for_function("document.getElementById('conn').dataset.online === '1'", timeout=TIMEOUT_MS)


def robot_x(page) -> float:
    return page.evaluate('window.l2b2.state && window.l2b2.state.robot.pose ? window.l2b2.state.robot.pose.x : NaN')


ROBOT_PIXEL = """() => {
  const v = view(); const p = S.state.robot.pose;
  const x = (p.x - v.x0) * v.scale, y = (v.h - (p.y - v.y0)) * v.scale;  // 4 px below the heading line
  return Array.from(document.getElementById('map').getContext('2d').getImageData(Math.round(x), Math.round(y) + 4, 1, 1).data);
}"""


def test_staff_login_map_joystick_send_estop_say(ros, sim, browser):
    panel, seen, base = sim['panel'], sim['seen'], sim['base']
    page = browser.new_context(bypass_csp=True, viewport={'width': 1400, 'height': 900}).new_page()
    page.goto(panel.url)
    page.wait_for_selector('#login:not([hidden])', timeout=TIMEOUT_MS)
    assert page.is_visible('#login-demo')  # simulation: the demo credential is shown
    login(page, panel.url)
    page.wait_for_function('window.l2b2.floor !== null && window.l2b2.state.robot.pose !== null', timeout=TIMEOUT_MS)
    assert page.evaluate(ROBOT_PIXEL)[:3] == [0, 200, 83]  # the robot is drawn where its pose is
    assert page.locator('#send-target option').count() == 1 + len(panel.state.targets)
    # The base reports its battery once a second: wait for the first report rather than racing it.
    page.wait_for_function("document.querySelector('#battery').innerText.startsWith('87')", timeout=TIMEOUT_MS)

    # Joystick: hold it forward, the robot moves on the map; release, it stops.
    box = page.locator('#joystick').bounding_box()
    cx, cy = box['x'] + box['width'] / 2, box['y'] + box['height'] / 2
    x0 = robot_x(page)
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx, box['y'] + 5)
    ros.wait_for(lambda: robot_x(page) > x0 + 0.2, 15, 'robot moving forward on the map')
    page.mouse.up()
    ros.wait_for(lambda: seen['cmd'] and seen['cmd'][-1].linear.x == 0.0 and base.cmd.linear.x == 0.0, 10,
                 'zero /cmd_vel after release')
    stopped_at = base.x
    ros.wait_for(lambda: abs(robot_x(page) - stopped_at) < 0.02, 10, 'map shows the stopped robot')

    # Send to a target: the escort gets the goal and the robot drives.
    page.select_option('#send-target', 'meldestelle')
    page.click('#send-go')
    ros.wait_for(lambda: sim['escort'].target_ids == ['meldestelle'], 10, 'escort goal')
    x1 = robot_x(page)
    ros.wait_for(lambda: robot_x(page) > x1 + 0.1, 15, 'robot driving to the target')

    # Emergency stop: zero velocity, speech silenced, goal cancelled, latched on the page.
    page.locator('#estop').hover()
    page.mouse.down()  # the stop acts on press
    page.mouse.up()
    page.wait_for_selector('#estop-state:not([hidden])', timeout=TIMEOUT_MS)
    ros.wait_for(lambda: seen['stop'] and seen['cmd'][-1].linear.x == 0.0, 10, 'stopped and silenced')
    ros.wait_for(lambda: panel.state.staff_snapshot(0)['escort'] is None, 10, 'escort goal cancelled')
    ros.wait_for(lambda: base.cmd.linear.x == 0.0, 10, 'the base got the zero command')
    x2 = base.x
    gate = sim['gate'].gate
    # The stop forgot every earlier command (the panel's own zero on the stop may arrive after it).
    assert gate._teleop_at is None or gate._teleop == (0.0, 0.0)
    page.mouse.move(cx, cy)
    page.mouse.down()  # the joystick cannot drive through a latched stop
    page.mouse.move(cx, box['y'] + 5)
    # Prove a forward command reached the gate, then that the base got the gate's later commands: zero.
    ros.wait_for(lambda: gate._teleop_at is not None and gate._teleop[0] > 0.0, 10, 'joystick command at the gate')
    n = len(seen['cmd'])
    ros.wait_for(lambda: len(seen['cmd']) >= n + 3, 10, 'the gate ticking on with the joystick held')
    assert all(c.linear.x == 0.0 and c.angular.z == 0.0 for c in seen['cmd'][n:])
    assert panel.bridge.deadman.active or gate._teleop_at is not None
    page.mouse.up()
    assert base.cmd.linear.x == 0.0 and base.x == pytest.approx(x2, abs=1e-6)
    assert page.is_visible('#resume')
    page.click('#resume')
    page.click('#resume-confirm')
    page.wait_for_selector('#estop-state[hidden]', state='attached', timeout=TIMEOUT_MS)
    assert not seen['safety'][-1].estop_active

    # Make the robot say a typed sentence in Turkish.
    page.fill('#say-text', 'Hoş geldiniz, size nasıl yardımcı olabilirim?')
    page.select_option('#say-lang', 'tr')
    page.click('#say-go')
    ros.wait_for(lambda: seen['say'] and seen['say'][-1].language == 'tr', 10, 'say request')
    assert seen['say'][-1].text == 'Hoş geldiniz, size nasıl yardımcı olabilirim?'
    page.wait_for_function("document.getElementById('last-robot').textContent.startsWith('Hoş geldiniz')",
                           timeout=TIMEOUT_MS)
    actions = [e['action'] for e in panel.audit.recent()]
    assert {'login', 'send_to', 'estop', 'resume', 'say'} <= set(actions)
    page.context.close()


def test_staff_page_shows_offline_and_reconnects(ros, panel, browser):
    page = browser.new_context(bypass_csp=True).new_page()
    login_page = page
    login_page.goto(panel.url)
    page.fill('#login-user', 'staff')
    page.fill('#login-password', 'l2b2-demo')
    page.click('#login-submit')
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)
    # Nothing of the stack runs: the page says so clearly.
    page.wait_for_function("document.getElementById('conn').dataset.online === '0' && window.l2b2.stream",
                           timeout=TIMEOUT_MS)
    page.evaluate('window.l2b2.conn.ws.close()')  # the link drops; the page reconnects by itself
    page.wait_for_function('window.l2b2.stream === false || window.l2b2.conn.ws.readyState !== 1', timeout=TIMEOUT_MS)
    page.wait_for_function('window.l2b2.stream === true', timeout=TIMEOUT_MS)
    page.context.close()


def visitor_setup(ros, panel):
    probe = ros.node()
    inputs, typed = [], []
    subs = [probe.create_subscription(VisitorInput, '/visitor/input', inputs.append, RELIABLE),
            probe.create_subscription(RecognizedSpeech, '/speech/recognized', typed.append, RELIABLE)]
    pub = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    # Not latched: what the panel publishes before discovery matched it to the probe would be lost.
    ros.wait_for(lambda: all(s.get_publisher_count() >= 1 for s in subs), 15, 'probe matched to the panel')
    return inputs, typed, pub


def test_visitor_flow_german(ros, panel_factory, browser):
    panel = panel_factory(stale_after_s=30.0)
    inputs, typed, pub = visitor_setup(ros, panel)
    page = browser.new_context(bypass_csp=True, viewport={'width': 1280, 'height': 800}).new_page()
    page.goto(panel.url + 'visitor')
    page.wait_for_selector('#offline:not([hidden])', timeout=TIMEOUT_MS)  # no stack yet: said clearly
    page.click('#vlang-de')
    ros.wait_for(lambda: inputs and inputs[-1].action == 'start', 10, 'start')
    assert inputs[-1].language == 'de'
    page.get_by_role('button', name='Meldestelle').click()
    ros.wait_for(lambda: inputs[-1].action == 'target' and inputs[-1].value == 'meldestelle', 10, 'target')
    # Check-in by typing the booking number on the keypad.
    page.click('#v-checkin')
    for key in '4711':
        page.click(f'#keypad button[data-key="{key}"]')
    page.click('#booking-ok')
    ros.wait_for(lambda: inputs[-1].action == 'checkin' and inputs[-1].value == '4711', 10, 'check-in')
    assert page.input_value('#booking') == ''
    # The robot answers: subtitles, choice buttons and the waiting number appear; touch answers.
    pub.publish(DialogueState(state='confirming', language='de', last_user_text='4711',
                              last_robot_text='Ihr Termin bei der Meldestelle ist um 10:30 Uhr. Soll ich Sie hinbringen?',
                              choices=['yes', 'no']))
    page.wait_for_selector('#offline[hidden]', state='attached', timeout=TIMEOUT_MS)
    page.wait_for_selector('text=Soll ich Sie hinbringen?', timeout=TIMEOUT_MS)
    page.get_by_role('button', name='Ja').click()
    ros.wait_for(lambda: inputs[-1].action == 'choice' and inputs[-1].value == 'yes', 10, 'choice')
    # Drawing a waiting number.
    page.click('#v-ticket')
    page.click('#ticket-targets button[data-target="standesamt"]')
    ros.wait_for(lambda: inputs[-1].action == 'ticket' and inputs[-1].value == 'standesamt', 10, 'ticket')
    pub.publish(DialogueState(state='ticket', language='de', display_number='S-017', estimated_wait_minutes=12,
                              last_robot_text='Ihre Wartenummer ist S-017.'))
    page.wait_for_selector('#display-number:text("S-017")', timeout=TIMEOUT_MS)
    assert 'Wartezeit etwa 12 Minuten' in page.inner_text('#wait')
    # Free text without speech.
    page.click('#v-type')
    page.fill('#free-text', 'Wo kann ich meinen Pass abholen?')
    page.click('#free-text-ok')
    ros.wait_for(lambda: typed and typed[-1].text == 'Wo kann ich meinen Pass abholen?', 10, 'typed text')
    assert typed[-1].source == 'typed' and typed[-1].language == 'de'
    page.context.close()


def test_visitor_flow_turkish(ros, panel_factory, browser):
    """Also proves the page works under its own Content-Security-Policy (no bypass here)."""
    panel = panel_factory(stale_after_s=30.0)
    inputs, typed, pub = visitor_setup(ros, panel)
    page = browser.new_context(viewport={'width': 1280, 'height': 800}).new_page()
    page.goto(panel.url + 'visitor')
    page.click('#vlang-tr')
    ros.wait_for(lambda: inputs and inputs[-1].action == 'start' and inputs[-1].language == 'tr', 10, 'start tr')
    page.wait_for_selector('text=Nereye gitmek istiyorsunuz?', timeout=TIMEOUT_MS)
    page.get_by_role('button', name='Nüfus Kayıt Bürosu').click()
    ros.wait_for(lambda: inputs[-1].value == 'meldestelle' and inputs[-1].language == 'tr', 10, 'target tr')
    pub.publish(DialogueState(state='confirming', language='tr', last_user_text='nüfus',
                              last_robot_text='Sizi Nüfus Kayıt Bürosuna götüreyim mi?', choices=['yes', 'no']))
    page.wait_for_selector('text=götüreyim mi?', timeout=TIMEOUT_MS)
    page.get_by_role('button', name='Evet').click()
    ros.wait_for(lambda: inputs[-1].action == 'choice' and inputs[-1].value == 'yes', 10, 'choice tr')
    page.click('#v-type')
    page.fill('#free-text', 'Pasaportumu nereden alabilirim?')
    page.click('#free-text-ok')
    ros.wait_for(lambda: typed and typed[-1].language == 'tr', 10, 'typed tr')
    page.context.close()


def test_visitor_touch_before_the_link_is_up_is_not_lost(ros, panel_factory, browser):
    """A visitor may touch a language while the page is still loading or connecting (CI once clicked before
    the socket existed: the touch threw and was lost). The touch stays on screen and is sent once the link is up."""
    panel = panel_factory(stale_after_s=30.0)
    inputs, _typed, _pub = visitor_setup(ros, panel)
    page = browser.new_context(viewport={'width': 1280, 'height': 800}).new_page()
    # The page opens its link only after loading its texts: hold the last of them back until released.
    page.add_init_script("""(() => {
      let release; const held = new Promise((ok) => { release = ok; });
      window.releaseTexts = release;
      const realFetch = window.fetch.bind(window);
      window.fetch = async (url, ...rest) => {
        if (String(url).endsWith('/i18n/en.json')) await held;
        return realFetch(url, ...rest);
      };
    })()""")
    page.goto(panel.url + 'visitor')
    page.click('#vlang-tr')
    page.wait_for_selector('text=Nereye gitmek istiyorsunuz?', timeout=TIMEOUT_MS)
    assert page.evaluate('window.l2b2.conn') is None and not inputs  # touched before the link existed
    page.evaluate('window.releaseTexts()')
    ros.wait_for(lambda: inputs and inputs[-1].action == 'start' and inputs[-1].language == 'tr', 10, 'start tr')
    assert [(i.action, i.language) for i in inputs] == [('start', 'tr')]  # once, not repeated
    page.wait_for_function("window.l2b2.msgCount > 1", timeout=TIMEOUT_MS)
    assert page.is_visible('text=Nereye gitmek istiyorsunuz?')  # the screen did not fall back to the welcome
    page.context.close()


def test_visitor_screen_with_the_real_dialogue(ros, panel_factory, browser):
    """The touch-only path through the real dialogue node: greeting, a target, the yes/no question."""
    from l2b2_dialogue.dialogue_node import DialogueNode
    panel = panel_factory(stale_after_s=30.0)
    ros.add(DialogueNode(context=ros.context))
    ros.wait_for(lambda: panel.bridge.cli_language.service_is_ready(), 15, 'dialogue services')
    page = browser.new_context(viewport={'width': 1280, 'height': 800}).new_page()
    page.goto(panel.url + 'visitor')
    page.click('#vlang-tr')
    page.wait_for_selector('#sub-robot:not(:empty)', timeout=TIMEOUT_MS)
    page.click('#targets button[data-target="meldestelle"]')
    page.wait_for_selector('#choices button[data-choice="yes"]:text("Evet")', timeout=TIMEOUT_MS)
    assert 'Nüfus Kayıt' in page.inner_text('#sub-robot')
    page.context.close()


def test_visitor_subtitles_show_staff_answers_during_takeover(ros, panel_factory, browser):
    """What staff type during a takeover goes straight to /speech/say: the visitor screen shows it too."""
    panel = panel_factory(stale_after_s=30.0)
    _inputs, _typed, pub = visitor_setup(ros, panel)
    say = ros.node('staff_say').create_publisher(SayRequest, '/speech/say', RELIABLE)
    page = browser.new_context(bypass_csp=True, viewport={'width': 1280, 'height': 800}).new_page()
    page.goto(panel.url + 'visitor')
    pub.publish(DialogueState(state='listening', language='de', staff_takeover=True,
                              last_robot_text='Eine Mitarbeiterin hilft Ihnen gleich.'))
    page.wait_for_selector('#takeover-note:not([hidden])', timeout=TIMEOUT_MS)
    ros.wait_for(lambda: say.get_subscription_count() >= 1, 10, 'panel subscribed to /speech/say')
    say.publish(SayRequest(utterance_id='panel-1', text='Ihr Ausweis liegt an Schalter 3 bereit.', language='de'))
    page.wait_for_selector('#sub-robot:text("Schalter 3")', timeout=TIMEOUT_MS)
    # The conversation ends: the next visitor does not read the last one's answers.
    pub.publish(DialogueState(state='idle', language='de'))
    page.wait_for_function("document.getElementById('sub-robot').textContent === ''", timeout=TIMEOUT_MS)
    page.context.close()


def test_visitor_screen_shows_offline_and_reconnects(ros, panel, browser):
    page = browser.new_context(bypass_csp=True).new_page()
    page.goto(panel.url + 'visitor')
    page.wait_for_function('window.l2b2.conn && window.l2b2.conn.ws.readyState === 1', timeout=TIMEOUT_MS)
    page.wait_for_selector('#offline:not([hidden])', timeout=TIMEOUT_MS)  # no stack: said clearly
    # The link drops; the page marks itself disconnected and reconnects by itself.
    page.evaluate('''() => {
      window.sawDisconnect = false;
      new MutationObserver(() => { if (document.body.classList.contains('disconnected')) window.sawDisconnect = true; })
        .observe(document.body, {attributes: true});
      window.firstSocket = window.l2b2.conn.ws;
      window.l2b2.conn.ws.close();
    }''')
    page.wait_for_function('window.sawDisconnect && window.l2b2.conn.ws !== window.firstSocket && '
                           "window.l2b2.conn.ws.readyState === 1 && !document.body.classList.contains('disconnected')",
                           timeout=TIMEOUT_MS)
    n = page.evaluate('window.l2b2.msgCount')
    page.wait_for_function(f'window.l2b2.msgCount > {n}', timeout=TIMEOUT_MS)  # live state flows again
    page.context.close()


def test_unconfirmed_estop_shows_a_big_translated_banner(ros, panel, browser):
    """No safety gate answers: staff see at once, in their language, to use the hardware stop."""
    from l2b2_common.catalog import load_catalog
    page = browser.new_context(viewport={'width': 1400, 'height': 900}, locale='de-DE').new_page()
    page.goto(panel.url)
    page.fill('#login-user', 'staff')
    page.fill('#login-password', 'l2b2-demo')
    page.click('#login-submit')
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)
    # The staff language switch offers only what the dialogue speaks; "home" is the catalog's.
    assert page.locator('button.lang').evaluate_all('bs => bs.map(b => b.dataset.lang)') == ['de', 'tr']
    page.wait_for_selector(f'#send-target option[value="{load_catalog().home_waypoint}"]', state='attached',
                           timeout=TIMEOUT_MS)
    assert page.locator('#estop-failed').is_hidden()
    page.locator('#estop').dispatch_event('pointerdown')
    page.wait_for_selector('#estop-failed:not([hidden])', timeout=TIMEOUT_MS)
    assert 'Hardware-Not-Halt' in page.inner_text('#estop-failed')
    assert page.evaluate("parseFloat(getComputedStyle(document.getElementById('estop-failed')).fontSize)") >= 24
    page.select_option('#ui-lang', 'tr')
    page.wait_for_selector('html[lang="tr"]', state='attached', timeout=TIMEOUT_MS)
    assert 'donanım' in page.inner_text('#estop-failed'), page.inner_text('#estop-failed')
    page.context.close()


def test_a_double_tap_on_resume_does_not_resume(ros, sim, browser):
    """Issue 17: "Really resume" appeared under the finger and was armed at once. Now a double click or a
    double tap on "Resume…" leaves the stop latched; resuming takes a deliberate later press elsewhere."""
    panel, gate = sim['panel'], sim['gate']
    for touch in (False, True):
        context = browser.new_context(bypass_csp=True, viewport={'width': 1280, 'height': 800}, has_touch=touch)
        page = context.new_page()
        login(page, panel.url)

        def resumes() -> int:
            return [e['action'] for e in panel.audit.recent()].count('resume')
        before = resumes()
        page.locator('#estop').dispatch_event('pointerdown')
        ros.wait_for(lambda: gate.gate.estop_active, 10, 'stop latched')
        page.wait_for_selector('#resume:not([hidden])', timeout=TIMEOUT_MS)
        box = page.locator('#resume').bounding_box()
        x, y = box['x'] + box['width'] / 2, box['y'] + box['height'] / 2
        if touch:
            page.touchscreen.tap(x, y)
            page.touchscreen.tap(x, y)
        else:
            page.mouse.dblclick(x, y)
        # The second tap lands on "keep stopped" (closing the question) or, had it missed, on nothing
        # armed: wait until the page has settled either way, i.e. no disarmed question is left open.
        page.wait_for_function("document.getElementById('resume-ask').hidden || "
                               "!document.getElementById('resume-confirm').disabled", timeout=TIMEOUT_MS)
        assert gate.gate.estop_active and page.is_visible('#estop-state')
        assert resumes() == before
        # A deliberate second action, at another place and after a pause, does resume.
        page.click('#resume') if not touch else page.tap('#resume')
        page.wait_for_selector('#resume-confirm:not([disabled])', timeout=TIMEOUT_MS)
        confirm = page.locator('#resume-confirm').bounding_box()
        assert abs(confirm['x'] - box['x']) > box['width'] / 2  # not where the finger was
        assert gate.gate.estop_active
        page.tap('#resume-confirm') if touch else page.click('#resume-confirm')
        ros.wait_for(lambda: not gate.gate.estop_active, 10, 'resumed')
        ros.wait_for(lambda n=before: resumes() == n + 1, 10, 'one resume audited')
        context.close()

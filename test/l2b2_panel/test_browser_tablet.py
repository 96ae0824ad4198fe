"""Issue 17 items 8-10 in headless Chromium: subtitles from the real speech output, the tablet layouts
(1280x800 landscape, 800x1280 portrait), and the panel's own words in German and Turkish.

Layout checks measure element boxes in the browser: nothing covered, in the viewport without scrolling
where a visitor or staff member needs it, touch targets at least 44 px high, no word broken inside,
nothing moving when the emergency stop latches."""
from __future__ import annotations

from l2b2_interfaces.msg import ComponentHealth, DialogueState, SafetyState, SayRequest, SpeechStatus
import pytest
from rclpy.parameter import Parameter

from l2b2_common.config import REPO_ROOT
from l2b2_common.qos import LATCHED, RELIABLE, STATUS
from l2b2_navigation.safety_gate_node import SafetyGateNode

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 20000
SIZES = [pytest.param({'width': 1280, 'height': 800}, id='landscape'),
         pytest.param({'width': 800, 'height': 1280}, id='portrait')]
REAL_MAP = {'map_yaml': str(REPO_ROOT / 'maps/buergerbuero.yaml'),
            'waypoints_yaml': str(REPO_ROOT / 'maps/buergerbuero_waypoints.yaml')}

BOX = "(sel) => { const r = document.querySelector(sel).getBoundingClientRect(); " \
      "return {x: r.x, y: r.y, w: r.width, h: r.height}; }"


def login(page, url, lang='de'):
    page.goto(url)
    page.wait_for_selector('#login:not([hidden])', timeout=TIMEOUT_MS)
    page.select_option('#ui-lang', lang)
    page.wait_for_selector(f'html[lang="{lang}"]', state='attached', timeout=TIMEOUT_MS)
    page.fill('#login-user', 'staff')
    page.fill('#login-password', 'l2b2-demo')
    page.click('#login-submit')
    page.wait_for_selector('#app:not([hidden])', timeout=TIMEOUT_MS)


# --- item 8: subtitles ------------------------------------------------------------------------------------
A_SENTENCES = ['Einen Moment bitte, ich ziehe jetzt eine Wartenummer für das Standesamt für Sie.',
               'Ihre Wartenummer ist sechs. Bitte behalten Sie die Anzeige über dem Schalter im Blick.',
               'Bitte nehmen Sie im Wartebereich Platz, Sie werden gleich aufgerufen. Auf Wiedersehen!']
B_GREETING = 'Merhaba! Size nasıl yardımcı olabilirim?'


def test_subtitles_show_the_sentence_spoken_now_and_never_the_last_visitors(ros, panel_factory, browser):
    """The real TTS speaks the dialogue's sentences in order at real-time pace, so it is sentences behind;
    the next (Turkish) visitor begins while it still speaks the last one's German. The screen shows what
    is spoken now, and nothing of the last conversation once the next has begun."""
    from l2b2_speech.tts_node import TtsNode
    panel = panel_factory(stale_after_s=30.0)
    probe = ros.node('dialogue_stand_in')
    spoken: list[SpeechStatus] = []
    probe.create_subscription(SpeechStatus, '/speech/status', spoken.append, STATUS)
    say = probe.create_publisher(SayRequest, '/speech/say', RELIABLE)
    state = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    ros.add(TtsNode(context=ros.context, parameter_overrides=[Parameter('output', value='null')]))
    ros.wait_for(lambda: say.get_subscription_count() >= 2, 15, 'the TTS and the panel on /speech/say')

    def speaking(uid):
        return any(m.utterance_id == uid and m.state == SpeechStatus.SPEAKING for m in spoken)

    page = panel_page = browser.new_context(bypass_csp=True, viewport={'width': 1280, 'height': 800}).new_page()
    panel_page.goto(panel.url + 'visitor')
    page.click('#vlang-de')
    # Like the dialogue: a conversation's sentences first, then its state naming the last of them.
    for i, text in enumerate(A_SENTENCES):
        say.publish(SayRequest(utterance_id=f'dialogue-a{i}', text=text, language='de'))
    state.publish(DialogueState(state='ticket', session_id='A', language='de', display_number='6',
                                last_robot_text=A_SENTENCES[-1]))
    ros.wait_for(lambda: speaking('dialogue-a0'), 15, 'the TTS speaking the first sentence')
    # What is spoken now, not the dialogue's newest line three sentences ahead of the voice.
    page.wait_for_function(f"document.getElementById('sub-robot').textContent === {A_SENTENCES[0]!r}",
                           timeout=TIMEOUT_MS)
    assert not speaking('dialogue-a1')  # (the first sentence is still being spoken)

    # Visitor A leaves; visitor B chooses Turkish while the TTS still works through A's sentences.
    page.evaluate("""() => { window.subs = [];
      new MutationObserver(() => window.subs.push(document.getElementById('sub-robot').textContent))
        .observe(document.getElementById('sub-robot'), {childList: true, characterData: true, subtree: true}); }""")
    state.publish(DialogueState(state='idle', session_id='', language='de'))
    page.wait_for_function("document.getElementById('sub-robot').textContent === ''", timeout=TIMEOUT_MS)
    say.publish(SayRequest(utterance_id='dialogue-b0', text=B_GREETING, language='tr'))
    state.publish(DialogueState(state='greeting', session_id='B', language='tr', last_robot_text=B_GREETING))
    page.wait_for_selector('html[lang="tr"]', state='attached', timeout=TIMEOUT_MS)
    ros.wait_for(lambda: speaking('dialogue-a2'), 30, "the TTS speaking A's last sentence during B")
    ros.wait_for(lambda: speaking('dialogue-b0'), 30, "the TTS reaching B's greeting")
    page.wait_for_function(f"document.getElementById('sub-robot').textContent === {B_GREETING!r}",
                           timeout=TIMEOUT_MS)
    shown = page.evaluate('window.subs')
    assert not set(shown) & set(A_SENTENCES), shown  # A's German never reached B's screen
    assert not page.is_visible('#number')  # nor A's waiting number
    page.context.close()


# --- item 9: layout ---------------------------------------------------------------------------------------
WORDS_WHOLE = """(sel) => Array.from(document.querySelectorAll(sel)).filter((b) => b.offsetParent).map((b) => {
  const node = b.firstChild; const broken = [];
  const re = /\\S+/g; let m;
  while ((m = re.exec(node.textContent))) {
    const range = document.createRange(); range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
    const lines = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
    if (lines.size > 1) broken.push(m[0]);
  }
  return {text: b.textContent, broken, overflow: b.scrollWidth > b.clientWidth + 1, h: b.getBoundingClientRect().height};
})"""


LONG = {'de': 'Ihre Wartenummer ist 17. Vor Ihnen sind 3 Personen, das dauert etwa 25 Minuten. '
              'Soll ich Sie zum Wartebereich bringen?',
        'tr': 'Sıra numaranız 17. Önünüzde 3 kişi var, yaklaşık 25 dakika sürer. Sizi bekleme alanına götüreyim mi?'}


@pytest.mark.parametrize('size', SIZES)
def test_visitor_screen_fits_the_tablet(ros, panel_factory, browser, size):
    panel = panel_factory(stale_after_s=30.0)
    probe = ros.node('dialogue_and_gate_stand_in')
    state = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    safety = probe.create_publisher(SafetyState, '/safety/state', LATCHED)
    for lang in ('de', 'tr'):
        page = browser.new_context(bypass_csp=True, viewport=size).new_page()
        page.goto(panel.url + 'visitor')
        page.click(f'#vlang-{lang}')
        page.wait_for_selector('#targets button', timeout=TIMEOUT_MS)
        page.wait_for_selector(f'html[lang="{lang}"]', state='attached', timeout=TIMEOUT_MS)
        nav = page.evaluate(BOX, 'nav.bottom')
        assert nav['y'] + nav['h'] <= size['height'] + 0.5  # the bar sits at the bottom, inside the screen
        for sel in ('#v-checkin', '#v-ticket', '#v-type', '#v-restart', '#v-lang'):
            b = page.evaluate(BOX, sel)
            assert b['y'] >= 0 and b['y'] + b['h'] <= size['height'], (lang, sel, b)  # no scrolling needed
            assert b['h'] >= 44, (lang, sel, b)
            if not sel.startswith('#v-re') and sel != '#v-lang':
                assert b['y'] + b['h'] <= nav['y'], (lang, sel, b, nav)  # not under the bar
        assert page.evaluate('document.scrollingElement.scrollHeight') <= size['height']  # the page never scrolls
        for b in page.evaluate(WORDS_WHOLE, '#targets button, #screen-menu .grid.wide button'):
            assert not b['broken'] and not b['overflow'], (lang, b)  # "Ausländerbehörd|e" no more
            assert b['h'] >= 44, (lang, b)
        assert page.locator('#targets button[data-target="auslaenderbehoerde"]').get_attribute('lang') == lang
        # Mid-conversation: a long answer, the waiting number and the yes/no buttons all in view as well.
        state.publish(DialogueState(state='confirming', session_id=f's-{lang}', language=lang, display_number='17',
                                    estimated_wait_minutes=25, choices=['yes', 'no'], last_robot_text=LONG[lang]))
        page.wait_for_selector('#choices button[data-choice="no"]', timeout=TIMEOUT_MS)
        for sel in ('#number', '#sub-robot', '#choices button[data-choice="yes"]', '#choices button[data-choice="no"]',
                    '#v-checkin', '#v-ticket', '#v-type'):
            b = page.evaluate(BOX, sel)
            assert b['y'] >= 0 and b['y'] + b['h'] <= nav['y'] + 0.5, (lang, sel, b, nav)
        assert page.evaluate('document.scrollingElement.scrollHeight') <= size['height']
        # The stop latches: the banner says so, and nothing a finger may be on moves.
        keep = ['#v-checkin', '#v-ticket', '#v-type', '#targets button >> nth=0', '#number',
                '#choices button[data-choice="yes"]']
        before = {sel: page.locator(sel).bounding_box() for sel in keep}
        safety.publish(SafetyState(estop_active=True, estop_source='panel'))
        page.wait_for_selector('#stopped:not([hidden])', timeout=TIMEOUT_MS)
        assert page.evaluate(BOX, '#stopped')['y'] + page.evaluate(BOX, '#stopped')['h'] <= size['height']
        after = {sel: page.locator(sel).bounding_box() for sel in keep}
        assert after == before, (lang, before, after)
        safety.publish(SafetyState(estop_active=False))
        page.wait_for_selector('#stopped[hidden]', state='attached', timeout=TIMEOUT_MS)
        page.click('#v-ticket')
        for b in page.evaluate(WORDS_WHOLE, '#ticket-targets button'):
            assert not b['broken'] and not b['overflow'], (lang, b)
        state.publish(DialogueState(state='idle'))  # the next page starts at the greeting
        page.wait_for_function("document.getElementById('choices').children.length === 0", timeout=TIMEOUT_MS)
        page.context.close()


@pytest.fixture
def gate_and_panel(ros, panel_factory):
    panel = panel_factory(**REAL_MAP, stale_after_s=30.0)
    gate = ros.add(SafetyGateNode(context=ros.context))
    ros.wait_for(lambda: panel.bridge.cli_estop.service_is_ready(), 15, 'safety gate')
    return panel, gate


STABLE = ['#map', '#joystick', '#send-target', '#send-go', '#cancel-goal', '#pause', '#say-text', '#say-go',
          '#lang-de', '#takeover', '#reset', '#estop', '#dlg-state']
LABELS_OK = """() => { const b = window.l2b2.labels || []; const c = document.getElementById('map');
  const hit = (a, q) => a.x < q.x + q.w && q.x < a.x + a.w && a.y < q.y + q.h && q.y < a.y + a.h;
  return {n: b.length, texts: b.map((l) => l.text), overlaps: b.flatMap((a, i) => b.slice(i + 1).filter((q) => hit(a, q))
    .map((q) => [a.text, q.text])), outside: b.filter((a) => a.x < 0 || a.y < 0 || a.x + a.w > c.width || a.y + a.h > c.height)
    .map((a) => a.text)}; }"""


@pytest.mark.parametrize('size', SIZES)
def test_staff_panel_fits_the_tablet_and_does_not_jump_on_a_stop(ros, gate_and_panel, browser, size):
    panel, gate = gate_and_panel
    n_waypoints = len(panel.state.waypoints)
    for lang in ('de', 'tr'):
        page = browser.new_context(bypass_csp=True, viewport=size).new_page()
        page.goto(panel.url)
        page.wait_for_selector('#login:not([hidden])', timeout=TIMEOUT_MS)
        for sel in ('#login-user', '#login-password', '#login-submit'):
            assert page.evaluate(BOX, sel)['h'] >= 44, sel
        login(page, panel.url, lang)
        page.wait_for_function('window.l2b2.floor !== null && (window.l2b2.labels || []).length > 0',
                               timeout=TIMEOUT_MS)
        small = page.evaluate("""() => Array.from(document.querySelectorAll('#app button, #app input, #app select, header button, header select'))
          .filter((e) => e.offsetParent).map((e) => [e.id || e.textContent, e.getBoundingClientRect().height])
          .filter(([, h]) => h < 44)""")
        assert small == [], small
        m = page.evaluate(BOX, '#map')
        portrait = size['height'] > size['width']
        assert m['w'] >= (0.9 if portrait else 0.4) * size['width'] and m['h'] >= 350, m  # portrait was ~215 px high
        labels = page.evaluate(LABELS_OK)
        assert labels['overlaps'] == [] and labels['outside'] == [], labels
        assert labels['n'] == n_waypoints, labels  # every waypoint named, none dropped for lack of room
        for sel in ('#estop', '#say-go', '#reset'):
            b = page.evaluate(BOX, sel)
            assert b['x'] >= 0 and b['x'] + b['w'] <= size['width'], (sel, b)
        before = {sel: page.evaluate(BOX, sel) for sel in STABLE}
        page.locator('#estop').dispatch_event('pointerdown')
        ros.wait_for(lambda: gate.gate.estop_active, 10, 'stop latched')
        page.wait_for_selector('#estop-state:not([hidden])', timeout=TIMEOUT_MS)
        page.wait_for_selector('#resume:not([hidden])', timeout=TIMEOUT_MS)
        page.wait_for_function("document.getElementById('feedback').textContent !== ''", timeout=TIMEOUT_MS)
        after = {sel: page.evaluate(BOX, sel) for sel in STABLE}
        moved = {sel: (before[sel], after[sel]) for sel in STABLE
                 if any(abs(before[sel][k] - after[sel][k]) > 0.5 for k in ('x', 'y', 'w', 'h'))}
        assert moved == {}, moved
        page.click('#resume')
        page.wait_for_selector('#resume-confirm:not([disabled])', timeout=TIMEOUT_MS)
        page.click('#resume-confirm')
        ros.wait_for(lambda: not gate.gate.estop_active, 10, 'resumed')
        page.wait_for_selector('#estop-state[hidden]', state='attached', timeout=TIMEOUT_MS)
        page.context.close()


# --- item 10: the panel's words -----------------------------------------------------------------------------
WORDS = {
    'de': {'state': 'hört zu', 'gate': 'Sicherheitsschaltung: bereit', 'stopped': 'NOT-HALT AKTIV',
           'done': 'Erledigt: Not-Halt', 'queue': 'Check-in abgelehnt – zu früh (Meldestelle)',
           'labels': ('Startpunkt', 'Eingang', 'Ausländerbehörde')},
    'tr': {'state': 'dinliyor', 'gate': 'Güvenlik devresi: hazır', 'stopped': 'ACİL DURDURMA ETKİN',
           'done': 'Tamam: Acil durdurma', 'queue': 'randevu girişi reddedildi – çok erken (Nüfus Kayıt Bürosu)',
           'labels': ('Başlangıç noktası', 'Giriş', 'Yabancılar Dairesi')},
}


@pytest.mark.parametrize('lang', ['de', 'tr'])
def test_staff_panel_speaks_the_staff_language_and_shows_health_truthfully(ros, gate_and_panel, browser, lang):
    panel, gate = gate_and_panel
    w = WORDS[lang]
    probe = ros.node('bridge_and_dialogue_stand_in')
    state = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    health = probe.create_publisher(ComponentHealth, '/l2b2/health', 50)
    page = browser.new_context(bypass_csp=True, viewport={'width': 1280, 'height': 800}).new_page()
    login(page, panel.url, lang)
    state.publish(DialogueState(state='listening', session_id='s1', language='tr'))
    page.wait_for_function(f"document.getElementById('dlg-state').textContent === {w['state']!r}", timeout=TIMEOUT_MS)
    # The real safety gate reports itself each second: OK and green while the robot may move.
    gate_line = "document.querySelector('#health li[data-component=\"safety_gate\"]')"
    page.wait_for_function(f"{gate_line} && {gate_line}.className === 'ok'", timeout=TIMEOUT_MS)
    assert page.inner_text('#health li[data-component="safety_gate"]') == w['gate']
    # A refused early check-in, as the queue bridge reports it (DEGRADED, "check-in failed: too early at
    # <target>"): a notice for staff, not the appointment system in trouble.
    health.publish(ComponentHealth(component='queue_bridge', level=ComponentHealth.DEGRADED,
                                   message='check-in failed: too early at meldestelle'))
    queue_line = '#health li[data-component="queue_bridge"]'
    page.wait_for_selector(queue_line, timeout=TIMEOUT_MS)
    assert page.get_attribute(queue_line, 'class') == 'notice'
    assert w['queue'] in page.inner_text(queue_line)
    assert page.evaluate(f"getComputedStyle(document.querySelector('{queue_line}'), '::before').color") \
        != page.evaluate("getComputedStyle(document.querySelector('#health li.ok'), '::before').color")
    # A latched stop: the gate's line says so and is not green; the feedback is in the staff's language.
    page.locator('#estop').dispatch_event('pointerdown')
    ros.wait_for(lambda: gate.gate.estop_active, 10, 'stop latched')
    page.wait_for_function(f"{gate_line}.className === 'stopped'", timeout=TIMEOUT_MS)
    assert w['stopped'] in page.inner_text('#health li[data-component="safety_gate"]')
    red = page.evaluate(f"getComputedStyle({gate_line}, '::before').color")
    assert red == 'rgb(255, 23, 68)', red
    page.wait_for_function(f"document.getElementById('feedback').textContent === {w['done']!r}", timeout=TIMEOUT_MS)
    # Map labels: the catalog's names and the texts' names for the other waypoints, never a bare id.
    page.wait_for_function('(window.l2b2.labels || []).length > 0', timeout=TIMEOUT_MS)
    texts = page.evaluate('window.l2b2.labels.map((l) => l.text)')
    assert set(w['labels']) <= set(texts), texts
    assert not set(texts) & set(panel.state.waypoints), texts
    assert page.locator('#send-target option').first.inner_text() == w['labels'][0]
    page.context.close()

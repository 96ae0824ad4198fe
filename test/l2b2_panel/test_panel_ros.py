"""The panel node against real rclpy nodes: controls reach the ROS interfaces of docs/interfaces.md."""
from __future__ import annotations

import asyncio
import json
import threading
import time

import aiohttp
from geometry_msgs.msg import Twist
from l2b2_interfaces.msg import DialogueState, RecognizedSpeech, SafetyState, SayRequest, VisitorInput
from l2b2_interfaces.srv import SetLanguage
from std_msgs.msg import Empty
from std_srvs.srv import SetBool, Trigger

from l2b2_common.qos import LATCHED, RELIABLE
from l2b2_navigation.safety_gate_node import SafetyGateNode
from l2b2_panel.stand_ins import stand_in_escort


class WsClient:
    """A WebSocket client in its own thread and loop (the test thread stays free to wait on ROS)."""

    def __init__(self, url: str, cookie: str = ''):
        self.received: list[dict] = []
        self.close_code: int | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._url, self._cookie = url, cookie
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(15)

    async def _open(self):
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self._url, headers={'Cookie': self._cookie} if self._cookie else {})
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self):
        async for msg in self._ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                self.received.append(json.loads(msg.data))
        self.close_code = self._ws.close_code

    def states(self) -> list[dict]:
        return [m for m in list(self.received) if m.get('type') == 'state']

    def send(self, obj: dict) -> None:
        asyncio.run_coroutine_threadsafe(self._ws.send_json(obj), self._loop).result(5)

    def close(self) -> None:
        async def shut():
            await self._ws.close()
            await self._session.close()
        asyncio.run_coroutine_threadsafe(shut(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def ws_url(panel, path: str) -> str:
    return panel.url.replace('http://', 'ws://').rstrip('/') + path


def test_estop_stops_everything_at_once(ros, panel, http):
    gate, escort = ros.add(SafetyGateNode(context=ros.context)), ros.add(stand_in_escort(context=ros.context))
    probe = ros.node()
    cmd, stops, safety = [], [], []
    probe.create_subscription(Twist, '/cmd_vel', cmd.append, RELIABLE)
    probe.create_subscription(Empty, '/speech/stop', stops.append, RELIABLE)
    probe.create_subscription(SafetyState, '/safety/state', safety.append, LATCHED)
    client = http(panel.url)
    assert client.login() == 200
    ros.wait_for(lambda: panel.bridge.escort.server_is_ready() and panel.bridge.cli_estop.service_is_ready(), 15, 'servers')
    status, payload, _ = client.request('POST', '/api/control/send', {'target_id': 'meldestelle'})
    assert status == 200, payload
    ros.wait_for(lambda: escort.target_ids == ['meldestelle'] and cmd and cmd[-1].linear.x > 0, 15, 'robot driving')
    status, payload, _ = client.request('POST', '/api/control/estop', {})
    assert status == 200 and payload['ok'] and payload['escort_cancelled'], payload
    ros.wait_for(lambda: stops and safety and safety[-1].estop_active, 10, 'estop state and /speech/stop')
    ros.wait_for(lambda: cmd[-1].linear.x == 0.0 and panel.state.staff_snapshot(0)['escort'] is None, 10,
                 'zero velocity and escort goal gone')
    assert gate.gate.estop_active
    # Latched: resuming needs a deliberate confirmation.
    assert client.request('POST', '/api/control/resume', {})[0] == 400
    assert client.request('POST', '/api/control/resume', {'confirm': True})[0] == 200
    ros.wait_for(lambda: not safety[-1].estop_active, 10, 'resumed')
    actions = [e['action'] for e in panel.audit.recent()]
    assert actions[-4:] == ['login', 'send_to', 'estop', 'resume']


def staff_joystick(ros, panel, http):
    """A logged-in staff WebSocket with its first state, and the /cmd_vel_teleop it drives."""
    probe = ros.node()
    teleop = []
    probe.create_subscription(Twist, '/cmd_vel_teleop', teleop.append, RELIABLE)
    client = http(panel.url)
    assert client.login() == 200
    ws = WsClient(ws_url(panel, '/ws/staff'), client.cookie)
    ros.wait_for(lambda: probe.count_publishers('/cmd_vel_teleop') >= 1, 10, 'teleop publisher')
    ros.wait_for(lambda: any(m.get('type') == 'state' for m in ws.received), 10, 'first state')
    return teleop, ws


def test_joystick_dead_man_and_disconnect(ros, panel_factory, http):
    # The longest dead-man allowed (1 s): a zero sooner after the disconnect than the dead-man's own
    # (1 s - 1.5 ticks = 0.925 s after the last command) can only come from the disconnect.
    panel = panel_factory(teleop_deadman_s=1.0)
    teleop, ws = staff_joystick(ros, panel, http)
    stamps = []
    ros.node('teleop_clock').create_subscription(Twist, '/cmd_vel_teleop',
                                                 lambda m: stamps.append((time.monotonic(), m)), RELIABLE)
    try:
        ws.send({'type': 'joy', 'linear': 1.0, 'angular': 0.0})
        ros.wait_for(lambda: any(m.linear.x == 0.5 for m in teleop), 10, 'driving at full deflection')
        # No further commands: the dead-man stops the robot by itself.
        ros.wait_for(lambda: teleop[-1].linear.x == 0.0, 10, 'dead-man zero')
        n = len(teleop)
        ws.send({'type': 'joy', 'linear': 0.5, 'angular': 1.0})
        ros.wait_for(lambda: any(m.angular.z == 1.0 for m in teleop[n:]), 10, 'driving again')
        # Keep the joystick held (fresh commands) right up to the disconnect.
        for _ in range(3):
            ws.send({'type': 'joy', 'linear': 0.5, 'angular': 1.0})
        ros.wait_for(lambda: panel.bridge.deadman.active and stamps and stamps[-1][1].angular.z == 1.0, 10,
                     'held')
    finally:
        closed_at = time.monotonic()
        ws.close()
    ros.wait_for(lambda: teleop[-1].linear.x == 0.0 and teleop[-1].angular.z == 0.0, 10, 'zero after disconnect')
    ros.wait_for(lambda: any(t > closed_at and m.angular.z == 0.0 for t, m in stamps), 10, 'zero seen by the clock')
    zero_at = next(t for t, m in stamps if t > closed_at and m.angular.z == 0.0)
    assert zero_at - closed_at < 0.9 * panel.p.teleop_deadman_s, 'the zero came from the dead-man, not the disconnect'
    assert panel.bridge.deadman.held is None
    assert all(m.angular.z == 0.0 for t, m in stamps if t >= zero_at)  # and nothing drives after it


def test_observer_cannot_drive(ros, panel_factory, http, tmp_path):
    panel = panel_factory(demo_mode=False)
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    client = http(panel.url)
    assert client.login('olaf', 'only watching') == 200
    ws = WsClient(ws_url(panel, '/ws/staff'), client.cookie)
    try:
        ws.send({'type': 'joy', 'linear': 1.0, 'angular': 0.0})
        ros.wait_for(lambda: any(m.get('type') == 'error' for m in ws.received), 10, 'refusal')
    finally:
        ws.close()
    assert panel.bridge.deadman.held is None


def test_dialogue_controls_and_say(ros, panel, http):
    probe = ros.node()
    said, calls = [], []
    probe.create_subscription(SayRequest, '/speech/say', said.append, RELIABLE)

    def handler(kind):
        def cb(request, response):
            calls.append((kind, getattr(request, 'language', getattr(request, 'data', None))))
            response.success = True
            return response
        return cb
    probe.create_service(SetLanguage, '/dialogue/set_language', handler('language'))
    probe.create_service(SetBool, '/dialogue/takeover', handler('takeover'))
    probe.create_service(Trigger, '/dialogue/reset', handler('reset'))
    client = http(panel.url)
    assert client.login() == 200
    ros.wait_for(lambda: panel.bridge.cli_reset.service_is_ready() and panel.bridge.cli_takeover.service_is_ready()
                 and panel.bridge.cli_language.service_is_ready(), 15, 'dialogue services')
    assert client.request('POST', '/api/control/language', {'language': 'tr'})[0] == 200
    assert client.request('POST', '/api/control/takeover', {'enable': True})[0] == 200
    assert client.request('POST', '/api/control/takeover', {'enable': False})[0] == 200
    assert client.request('POST', '/api/control/reset', {})[0] == 200
    assert calls == [('language', 'tr'), ('takeover', True), ('takeover', False), ('reset', None)]
    ros.wait_for(lambda: probe.count_subscribers('/speech/say') >= 2, 10, 'panel subscribed to /speech/say')
    assert client.request('POST', '/api/control/say', {'text': 'Bir dakika lütfen.', 'language': 'tr'})[0] == 200
    ros.wait_for(lambda: said and said[-1].text == 'Bir dakika lütfen.' and said[-1].language == 'tr', 10, 'say')
    assert client.request('POST', '/api/control/say', {'text': '', 'language': 'tr'})[0] == 400
    assert client.request('POST', '/api/control/send', {'target_id': 'nowhere'})[0] == 400


def test_visitor_actions_and_live_state(ros, panel):
    probe = ros.node()
    inputs, typed = [], []
    probe.create_subscription(VisitorInput, '/visitor/input', inputs.append, RELIABLE)
    probe.create_subscription(RecognizedSpeech, '/speech/recognized', typed.append, RELIABLE)
    pub = probe.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    ws = WsClient(ws_url(panel, '/ws/visitor'))
    try:
        ros.wait_for(lambda: probe.count_publishers('/visitor/input') >= 1, 10, 'visitor publisher')
        ws.send({'action': 'checkin', 'value': '4711', 'language': 'de'})
        ws.send({'action': 'text', 'value': 'Wo ist das Standesamt?', 'language': 'de'})
        ws.send({'action': 'reboot', 'value': 'now', 'language': 'de'})
        ros.wait_for(lambda: inputs and typed, 10, 'visitor input and typed text')
        assert (inputs[0].action, inputs[0].value) == ('checkin', '4711')
        assert (typed[0].text, typed[0].source, typed[0].confidence) == ('Wo ist das Standesamt?', 'typed', 1.0)
        ros.wait_for(lambda: any(m.get('type') == 'error' for m in ws.received), 10, 'unknown action refused')
        pub.publish(DialogueState(state='ticket', language='tr', display_number='B042', estimated_wait_minutes=9))
        ros.wait_for(lambda: any(m.get('type') == 'state' and m['dialogue']['display_number'] == 'B042'
                                 for m in ws.received), 10, 'waiting number pushed')
        last = [m for m in ws.received if m.get('type') == 'state'][-1]
        assert 'robot' not in last and 'health' not in last  # the kiosk gets only what a visitor may see
    finally:
        ws.close()
    assert len(inputs) == 1


def test_logout_closes_the_live_stream(ros, panel, http):
    client = http(panel.url)
    assert client.login() == 200
    ws = WsClient(ws_url(panel, '/ws/staff'), client.cookie)
    try:
        ros.wait_for(lambda: any(m.get('type') == 'state' for m in ws.received), 10, 'first state')
        assert client.request('POST', '/api/logout', {})[0] == 200
        ros.wait_for(lambda: ws.close_code == 4401, 10, 'stream closed for the ended session')
        assert client.request('POST', '/api/control/reset', {})[0] == 401
    finally:
        ws.close()


def test_joystick_dead_man_stops_republishing_in_time(ros, panel, http):
    """One command, then silence: the node re-sends it only while the next tick is inside the dead-man,
    then sends one zero and nothing more, so the gate never holds the robot beyond ``teleop_deadman_s``."""
    teleop, ws = staff_joystick(ros, panel, http)
    try:
        ws.send({'type': 'joy', 'linear': 1.0, 'angular': 0.0})
        ros.wait_for(lambda: any(m.linear.x == 0.0 for m in teleop[1:]), 10, 'dead-man zero')
        ros.wait_for(lambda: panel.bridge.deadman.held is None and not panel.bridge.deadman.active, 10, 'joystick released')
        first_zero = next(i for i, m in enumerate(teleop) if m.linear.x == 0.0)
        moving = teleop[:first_zero]
        # The first send, then at most one per tick that still ends inside the dead-man (0.3 s, 20 Hz: 1 + 5).
        limit = round(panel.p.teleop_deadman_s * panel.p.teleop_rate_hz)
        assert moving and all(m.linear.x == 0.5 for m in moving) and len(moving) <= limit
        n = len(teleop)
        panel.bridge._teleop_tick()  # a later tick: nothing is re-published once the dead-man fired
        assert len(teleop) == n and all(m.linear.x == 0.0 for m in teleop[first_zero:])
    finally:
        ws.close()


def test_staff_language_is_german_or_turkish_and_home_comes_from_the_catalog(ros, panel, http):
    from l2b2_common.catalog import load_catalog
    escort = ros.add(stand_in_escort(context=ros.context))
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', '/api/control/language', {'language': 'en'})
    assert status == 400 and 'de' in payload['error']  # refused here, not a 503 from the dialogue
    home = load_catalog().home_waypoint
    ros.wait_for(lambda: panel.bridge.escort.server_is_ready(), 15, 'escort')
    status, payload, _ = client.request('POST', '/api/control/send', {'target_id': home})
    assert status == 200, payload
    ros.wait_for(lambda: escort.target_ids == [home], 10, 'sent home')
    assert client.request('POST', '/api/control/cancel', {})[0] == 200


def test_pause_and_continue_the_escort(ros, panel, http):
    """Staff "Pause"/"Weiter" calls /escort/pause (SetBool) and shows its answer; audited, staff only, CSRF."""
    calls = []

    def on_pause(request, response):
        calls.append(request.data)
        response.success = True
        response.message = 'paused' if request.data else 'continuing'
        return response
    ros.node('escort_pause').create_service(SetBool, '/escort/pause', on_pause)
    client = http(panel.url)
    assert client.login() == 200
    ros.wait_for(lambda: panel.bridge.cli_pause.service_is_ready(), 15, '/escort/pause')
    status, payload, _ = client.request('POST', '/api/control/pause', {'pause': True})
    assert status == 200 and payload['ok'] and payload['paused'] is True and payload['message'] == 'paused'
    status, payload, _ = client.request('POST', '/api/control/pause', {'pause': False})
    assert status == 200 and payload['message'] == 'continuing'
    assert calls == [True, False]
    assert client.request('POST', '/api/control/pause', {})[0] == 400
    csrf, client.csrf = client.csrf, ''
    assert client.request('POST', '/api/control/pause', {'pause': True})[0] == 403
    client.csrf = csrf
    actions = [e['action'] for e in panel.audit.recent()]
    assert actions[-2:] == ['pause_escort', 'continue_escort']
    panel.web.auth.users.set_password('olaf', 'only watching', 'observer')
    observer = http(panel.url)
    assert observer.login('olaf', 'only watching') == 200
    assert observer.request('POST', '/api/control/pause', {'pause': True})[0] == 403
    assert calls == [True, False]


def test_pause_without_escort_says_so(ros, panel, http):
    client = http(panel.url)
    assert client.login() == 200
    status, payload, _ = client.request('POST', '/api/control/pause', {'pause': True})
    assert status == 503 and not payload['ok'] and 'escort' in payload['message']


def test_a_check_in_never_shows_the_booking_number_or_surname(ros, panel, http):
    """Issue 17: a visitor checks in on the touch screen through the real dialogue; neither the number
    nor the surname appears on the staff panel, the visitor screen or the audit log."""
    from l2b2_dialogue.dialogue_node import DialogueNode
    ros.add(DialogueNode(context=ros.context))
    ros.wait_for(lambda: panel.bridge.cli_language.service_is_ready(), 15, 'dialogue')
    client = http(panel.url)
    assert client.login() == 200
    staff = WsClient(ws_url(panel, '/ws/staff'), client.cookie)
    visitor = WsClient(ws_url(panel, '/ws/visitor'))

    def states():
        return [m['dialogue'] for m in staff.received if m.get('type') == 'state' and m.get('dialogue')]
    try:
        ros.wait_for(lambda: ros.node().count_subscribers('/visitor/input') >= 1, 10, 'dialogue listening')
        visitor.send({'action': 'start', 'value': 'de', 'language': 'de'})
        ros.wait_for(lambda: any(d.get('state') not in ('', 'idle') for d in states()), 15, 'conversation')
        visitor.send({'action': 'text', 'value': 'Ich habe einen Termin', 'language': 'de'})
        ros.wait_for(lambda: any(d.get('state') == 'checkin' for d in states()), 15, 'check-in')
        visitor.send({'action': 'text', 'value': '4711', 'language': 'de'})
        ros.wait_for(lambda: sum(d.get('last_user_text') == '***' for d in states()) >= 1, 15, 'number heard')
        visitor.send({'action': 'text', 'value': 'Wolf', 'language': 'de'})
        visitor.send({'action': 'checkin', 'value': '4711 Wolf', 'language': 'de'})
        n = len(staff.received)
        ros.wait_for(lambda: len(staff.received) > n + 3, 15, 'the conversation going on')
    finally:
        staff.close()
        visitor.close()
    seen = json.dumps(staff.received) + json.dumps(visitor.received) + json.dumps(panel.audit.recent(200))
    assert 'checkin' in seen
    assert '4711' not in seen and 'Wolf' not in seen

"""The dialogue node over the real ROS graph, with mock queue-bridge and escort servers (or none)."""
from __future__ import annotations

from datetime import date, datetime
import threading
from zoneinfo import ZoneInfo

from l2b2_interfaces.msg import (
    DialogueState,
    OfficeStatus,
    RecognizedSpeech,
    SafetyState,
    SayRequest,
    VisitorEvent,
    VisitorInput,
)
from l2b2_interfaces.srv import SetLanguage
import pytest
from rclpy.parameter import Parameter
from std_srvs.srv import SetBool, Trigger

from l2b2_common.codes import EscortOutcome
from l2b2_common.qos import LATCHED, RELIABLE
from l2b2_common.tunables import ParameterError, describe
from l2b2_dialogue.dialogue_node import DialogueNode, DialogueNodeParams
from l2b2_dialogue.settings import Settings
from l2b2_navigation.fakes import FakeEscort

from .mock_servers import MockQueueBridge

FAST = [Parameter('server_wait_s', value=1.0), Parameter('service_timeout_s', value=3.0),
        Parameter('answer_timeout_s', value=30.0), Parameter('tick_period_s', value=0.05)]


class Probe:
    """Publishes what a visitor does; records what the dialogue says and shows."""

    def __init__(self, ros):
        self.ros = ros
        self.node = ros.node('dialogue_probe')
        self.lock = threading.Lock()
        self.states: list[DialogueState] = []
        self.said: list[SayRequest] = []
        self.node.create_subscription(DialogueState, '/dialogue/state', self._on_state, LATCHED)
        self.node.create_subscription(SayRequest, '/speech/say', self._on_say, RELIABLE)
        self.speech = self.node.create_publisher(RecognizedSpeech, '/speech/recognized', RELIABLE)
        self.touch_pub = self.node.create_publisher(VisitorInput, '/visitor/input', RELIABLE)
        self.people = self.node.create_publisher(VisitorEvent, '/people/events', RELIABLE)
        self.safety = self.node.create_publisher(SafetyState, '/safety/state', LATCHED)
        self.office = self.node.create_publisher(OfficeStatus, '/office/status', LATCHED)

    def _on_state(self, msg):
        with self.lock:
            self.states.append(msg)

    def _on_say(self, msg):
        with self.lock:
            self.said.append(msg)

    @property
    def state(self) -> DialogueState | None:
        with self.lock:
            return self.states[-1] if self.states else None

    def wait_connected(self, dialogue):
        self.ros.wait_for(lambda: self.state is not None, 15.0, 'latched /dialogue/state')
        for pub in (self.speech, self.touch_pub, self.people):
            self.ros.wait_for(lambda pub=pub: pub.get_subscription_count() > 0, 15.0, f'subscriber of {pub.topic_name}')
        self.ros.wait_for(lambda: self.node.count_publishers('/speech/say') > 0, 15.0, '/speech/say publisher')

    def say(self, text, language='de'):
        self.speech.publish(RecognizedSpeech(text=text, language=language, confidence=0.9, source='scenario'))

    def touch(self, action, value='', language=''):
        self.touch_pub.publish(VisitorInput(action=action, value=value, language=language))

    def wait_state(self, name, timeout=15.0, **fields):
        def match():
            s = self.state
            return s is not None and s.state == name and all(getattr(s, k) == v for k, v in fields.items())
        self.ros.wait_for(match, timeout, f'dialogue state {name} {fields}')
        return self.state

    def wait_said(self, fragment, timeout=15.0):
        def find():
            with self.lock:
                return next((m for m in self.said if fragment in m.text), None)
        return self.ros.wait_for(find, timeout, f'robot saying "{fragment}"')


def _start(ros, *, queue=False, escort=None, params=()):
    mocks = {}
    if queue:
        mocks['queue'] = ros.add(MockQueueBridge(context=ros.context))
    if escort is not None:
        mocks['escort'] = ros.add(FakeEscort(context=ros.context, **escort))
    dialogue = ros.add(DialogueNode(context=ros.context, parameter_overrides=[*FAST, *params]))
    probe = Probe(ros)
    probe.wait_connected(dialogue)
    if queue:
        ros.wait_for(dialogue._lookup.service_is_ready, 15.0, 'mock queue bridge')
    if escort is not None:
        ros.wait_for(dialogue._escort.server_is_ready, 15.0, 'mock escort server')
    return dialogue, probe, mocks


def test_spoken_escort_german(ros):
    dialogue, probe, mocks = _start(ros, escort={})
    probe.people.publish(VisitorEvent(event=VisitorEvent.APPROACHED, person_id=7, distance=1.2))
    probe.wait_state('greeting')
    probe.wait_said('Guten Tag')
    probe.say('wo ist das standesamt')
    state = probe.wait_state('confirming', target_id='standesamt')
    assert state.choices == ['yes', 'no'] and state.language == 'de'
    probe.wait_said('zum Standesamt')
    probe.say('ja')
    probe.wait_state('arrived')
    goal = mocks['escort'].goals[0]
    assert (goal.target_id, goal.language, goal.with_visitor) == ('standesamt', 'de', True)
    probe.wait_said('Auf Wiedersehen')


def test_touch_checkin_turkish_with_queue_bridge(ros):
    dialogue, probe, mocks = _start(ros, queue=True)
    probe.touch('start', language='tr')
    probe.wait_state('greeting', language='tr')
    probe.touch('checkin', '4711 Yılmaz', 'tr')
    state = probe.wait_state('confirming', display_number='T11')
    assert state.estimated_wait_minutes == 9 and state.target_id == 'wartebereich'
    said = probe.wait_said('T11')
    assert said.language == 'tr' and said.conversation_id == state.session_id != ''  # the TTS drops it once the next one begins
    assert ('lookup', '4711', 'Yılmaz') in mocks['queue'].calls and ('check_in', '4711') in mocks['queue'].calls


def test_spoken_ticket_turkish(ros):
    dialogue, probe, mocks = _start(ros, queue=True)
    probe.say('sıra numarası almak istiyorum', 'tr')
    probe.wait_state('ticket')
    probe.say('nüfus kayıt bürosu', 'tr')
    state = probe.wait_state('confirming', display_number='W101')
    assert state.estimated_wait_minutes == 15
    assert ('draw_ticket', 'meldestelle') in mocks['queue'].calls


def test_missing_queue_bridge_tells_visitor_and_offers_info(ros):
    dialogue, probe, _ = _start(ros)
    probe.say('ich habe einen termin, nummer vier sieben eins eins')
    probe.wait_state('checkin')
    probe.wait_said('Nachname')
    probe.say('Mustermann')
    probe.wait_state('confirming', timeout=20.0, target_id='info')
    probe.wait_said('Terminsystem ist gerade nicht erreichbar')


@pytest.mark.parametrize('language, ask, target, unavailable', [
    ('de', 'ich möchte eine wartenummer', 'standesamt', 'Terminsystem ist gerade nicht erreichbar'),
    ('tr', 'sıra numarası almak istiyorum', 'standesamt', 'Randevu sistemine şu anda ulaşılamıyor'),
])
def test_missing_queue_bridge_ticket_by_touch_tells_visitor_and_offers_info(ros, language, ask, target, unavailable):
    dialogue, probe, _ = _start(ros)
    probe.say(ask, language)
    probe.wait_state('ticket', language=language)
    probe.touch('ticket', target, language)
    probe.wait_state('confirming', timeout=20.0, target_id='info')
    assert probe.wait_said(unavailable).language == language


def test_missing_queue_bridge_turkish_checkin_tells_visitor_and_offers_info(ros):
    dialogue, probe, _ = _start(ros)
    probe.touch('start', language='tr')
    probe.wait_state('greeting', language='tr')
    probe.touch('checkin', '4711 Yılmaz', 'tr')
    probe.wait_state('confirming', timeout=20.0, target_id='info')
    assert probe.wait_said('Randevu sistemine şu anda ulaşılamıyor').language == 'tr'
    before = len(probe.said)
    probe.touch('choice', 'yes', 'tr')  # the info desk is the way on: the visitor is not left standing
    answer = probe.ros.wait_for(lambda: probe.said[before:], 15.0, 'an answer to yes')[0]
    assert answer.language == 'tr' and answer.text


def test_missing_escort_server_tells_the_way(ros):
    dialogue, probe, _ = _start(ros)
    probe.say('tuvalet nerede', 'tr')
    probe.wait_state('confirming', target_id='wc')
    probe.say('evet', 'tr')
    probe.wait_state('escorting')
    probe.wait_state('listening', timeout=20.0)
    assert probe.wait_said('danışmaya sorun').language == 'tr'


def test_estop_cancels_escort(ros):
    dialogue, probe, mocks = _start(ros, escort={'hold': True})
    probe.say('wo ist der ausgang')
    probe.wait_state('confirming', target_id='ausgang')
    probe.say('ja')
    probe.wait_state('escorting')
    ros.wait_for(lambda: mocks['escort'].goals, 15.0, 'escort goal at the server')
    ros.wait_for(lambda: dialogue._goal_handle is not None, 15.0, 'goal accepted')
    probe.safety.publish(SafetyState(estop_active=True, estop_source='scenario'))
    probe.wait_state('idle')
    ros.wait_for(mocks['escort'].canceled.is_set, 15.0, 'escort goal cancelled')


def test_escort_visitor_lost_resets(ros):
    dialogue, probe, mocks = _start(ros, escort={'outcome': EscortOutcome.VISITOR_LOST})
    probe.touch('target', 'kasse', 'de')
    probe.wait_state('confirming', target_id='kasse')
    probe.touch('choice', 'yes')
    probe.wait_said('aus den Augen verloren')
    probe.wait_state('idle')


def test_services_reset_takeover_language(ros):
    dialogue, probe, _ = _start(ros)
    client = probe.node
    takeover = client.create_client(SetBool, '/dialogue/takeover')
    reset = client.create_client(Trigger, '/dialogue/reset')
    language = client.create_client(SetLanguage, '/dialogue/set_language')
    for c in (takeover, reset, language):
        ros.wait_for(c.service_is_ready, 15.0, f'service {c.srv_name}')
    probe.say('wo ist das fundbüro')
    probe.wait_state('confirming')
    resp = ros.wait_future(language.call_async(SetLanguage.Request(language='tr')))
    assert resp.success
    probe.wait_state('confirming', language='tr')
    probe.wait_said('Kayıp Eşya Bürosu')
    assert not ros.wait_future(language.call_async(SetLanguage.Request(language='xx'))).success
    assert ros.wait_future(takeover.call_async(SetBool.Request(data=True))).success
    probe.wait_state('takeover', staff_takeover=True)
    assert ros.wait_future(reset.call_async(Trigger.Request())).success
    probe.wait_state('idle', staff_takeover=False)


def test_silence_times_out_on_node_clock(ros):
    dialogue, probe, _ = _start(ros, params=[Parameter('answer_timeout_s', value=1.0),
                                             Parameter('max_reprompts', value=1),
                                             Parameter('farewell_timeout_s', value=0.5)])
    probe.say('wo ist das klo')
    probe.wait_state('confirming')
    probe.wait_said('Bitte sagen Sie ja oder nein')
    probe.wait_state('farewell')
    probe.wait_state('idle')


def test_escort_server_vanishing_mid_escort_is_not_waited_for_forever(ros):
    """The escort process dies after accepting the goal: no result will ever come. The dialogue must
    notice the server is gone, tell the visitor and offer the info desk."""
    dialogue, probe, mocks = _start(ros, escort={'hold': True})
    probe.say('wo ist die kasse')
    probe.wait_state('confirming', target_id='kasse')
    probe.say('ja')
    probe.wait_state('escorting')
    ros.wait_for(lambda: dialogue._goal_handle is not None, 15.0, 'goal accepted')
    mocks['escort'].vanish()  # its held goal never finishes
    probe.wait_state('confirming', timeout=30.0, target_id='info')
    probe.wait_said('komme gerade nicht weiter')
    assert dialogue.health.level != 0 and 'escort' in dialogue.health.message


def test_a_visitor_asking_for_staff_is_shown_to_staff(ros):
    """The robot promises "I'll let a member of staff know": /l2b2/health must say so, then clear."""
    from l2b2_interfaces.msg import ComponentHealth

    from l2b2_common.health import HEALTH_TOPIC
    from l2b2_dialogue.dialogue_node import STAFF_CALL

    dialogue, probe, _ = _start(ros, queue=True, escort={})
    seen: list[ComponentHealth] = []
    probe.node.create_subscription(ComponentHealth, HEALTH_TOPIC,
                                   lambda m: seen.append(m) if m.component == 'dialogue' else None, 10)
    probe.say('ich möchte mit einem mitarbeiter sprechen')
    probe.wait_state('staff_handoff')
    ros.wait_for(lambda: any(m.message == STAFF_CALL and m.level != ComponentHealth.OK for m in seen), 15.0,
                 'staff call on /l2b2/health')
    probe.say('tschüss')
    probe.wait_state('farewell')
    ros.wait_for(lambda: seen and seen[-1].level == ComponentHealth.OK, 15.0, 'staff call cleared')
    assert 'mitarbeiter' not in ' '.join(m.message.lower() for m in seen), 'no visitor words on the health topic'


def test_idle_runs_no_tick_and_a_conversation_does(ros):
    """Idle costs nothing: the time-out tick runs only while the conversation has a deadline."""
    dialogue, probe, _ = _start(ros)
    assert dialogue._tick_timer.is_canceled() and dialogue._caller.pending == 0
    probe.people.publish(VisitorEvent(event=VisitorEvent.APPROACHED, person_id=3, distance=1.0))
    probe.wait_state('greeting')
    ros.wait_for(lambda: not dialogue._tick_timer.is_canceled(), 15.0, 'time-out tick running')
    probe.people.publish(VisitorEvent(event=VisitorEvent.LEFT, person_id=3))
    probe.wait_state('idle')
    ros.wait_for(dialogue._tick_timer.is_canceled, 15.0, 'time-out tick stopped')


def test_every_setting_is_a_declared_parameter_with_its_description(ros):
    dialogue = ros.add(DialogueNode(context=ros.context, parameter_overrides=FAST))
    for spec in [*describe(Settings), *describe(DialogueNodeParams)]:
        assert dialogue.has_parameter(spec.name), spec.name
        assert dialogue.describe_parameter(spec.name).description.startswith(spec.description), spec.name
    assert dialogue.engine.settings.answer_timeout_s == 30.0 and dialogue.p.server_wait_s == 1.0


def test_a_setting_out_of_range_names_node_and_parameter(ros):
    with pytest.raises(ParameterError, match='dialogue.*max_reprompts'):
        DialogueNode(context=ros.context, parameter_overrides=[Parameter('max_reprompts', value=99)])


# -- the office day (issue 16) ------------------------------------------------------------------------------------
def _office_status(ros, dialogue, probe, accepting, reason=''):
    """Publish the office node's (latched) status and wait until the dialogue has it."""
    probe.office.publish(OfficeStatus(phase='open', accepting_escorts=accepting, reason=reason))
    expected = None if accepting else reason
    ros.wait_for(lambda: dialogue.engine.escort_refusal == expected, 15.0, f'/office/status {accepting} {reason}')


def test_low_battery_status_means_no_escort_offer_but_the_way(ros):
    dialogue, probe, mocks = _start(ros, escort={})
    assert dialogue.engine.escort_refusal is None  # no office node: escorts are offered as always
    _office_status(ros, dialogue, probe, False, 'battery_low')
    probe.say('wo ist das standesamt')
    said = probe.wait_said('mein Akku muss geladen werden')
    assert 'Den Weg zum Standesamt zeigt Ihnen der Bildschirm' in said.text and 'Infotheke' in said.text
    probe.wait_state('listening', target_id='standesamt')
    assert not mocks['escort'].goals and not any('Soll ich Sie' in m.text for m in probe.said)
    _office_status(ros, dialogue, probe, True)
    probe.say('wo ist das standesamt')
    probe.wait_state('confirming', target_id='standesamt')
    probe.say('ja')
    probe.wait_state('arrived')


def test_the_escort_refusing_tells_the_way_in_the_visitors_language(ros):
    dialogue, probe, mocks = _start(ros, escort={'outcome': EscortOutcome.NOT_ACCEPTING})
    probe.say('tuvalet nerede', 'tr')
    probe.wait_state('confirming', target_id='wc')
    probe.say('evet', 'tr')
    said = probe.wait_said('bataryamın şarj edilmesi gerekiyor')
    assert said.language == 'tr' and 'Tuvaletlere giden yolu ekranda' in said.text and 'danışma' in said.text
    probe.wait_state('listening', target_id='wc')
    assert len(mocks['escort'].goals) == 1


def test_closing_notice_and_holidays_from_the_office_config(ros):
    dialogue, probe, _ = _start(ros)
    assert date(2026, 12, 25) in dialogue.engine.calendar.holidays  # config/office.yaml
    berlin = ZoneInfo('Europe/Berlin')
    dialogue.engine.wall_clock = lambda: datetime(2026, 11, 23, 11, 50, tzinfo=berlin)  # a Monday
    probe.say('wo ist die meldestelle')
    said = probe.wait_said('Die Meldestelle schließt heute um 12:00 Uhr; Sie werden heute noch bedient.')
    assert said.text.endswith('Soll ich Sie zur Meldestelle bringen?')
    probe.wait_state('confirming', target_id='meldestelle')
    dialogue.engine.wall_clock = lambda: datetime(2026, 12, 25, 10, 0, tzinfo=berlin)
    probe.say('hat die meldestelle heute offen')
    probe.wait_said('heute wegen eines Feiertags geschlossen')

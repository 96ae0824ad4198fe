"""The figures node on a real ROS graph: real messages in, counts in a real SQLite file, real /metrics over HTTP."""
from __future__ import annotations

import urllib.error
import urllib.request

from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth, DialogueState, RecognizedSpeech, SayRequest, VisitorEvent, VisitorInput
from prometheus_client.parser import text_string_to_metric_families
import pytest
import rclpy
from rclpy.action import ActionClient, ActionServer
from rclpy.parameter import Parameter

from l2b2_common.codes import EscortOutcome
from l2b2_common.health import HEALTH_TOPIC
from l2b2_common.qos import LATCHED, RELIABLE
from l2b2_common.tunables import ParameterError
from l2b2_dialogue.responses import load_responses
from l2b2_office.figures import FiguresStore
from l2b2_office.figures_node import FiguresNode

SURNAME = 'Przybyszewski'
BOOKING = '83920417'
SAID = f'Ich habe einen Termin, mein Name ist {SURNAME}, die Nummer ist {BOOKING}'
ROBOT_SAID = f'Vorgangsnummer {BOOKING} für {SURNAME} gefunden'


def start(ros, tmp_path, **overrides):
    params = {'database': str(tmp_path / 'figures.sqlite'), 'metrics_port': 0, 'stale_after_s': 0.5,
              'escort_result_timeout_s': 2.0, **overrides}
    node = FiguresNode(context=ros.context, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
    return ros.add(node)


def scrape(node) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f'http://127.0.0.1:{node.metrics_port}/metrics', timeout=5) as response:
        text = response.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def metrics_text(node) -> str:
    with urllib.request.urlopen(f'http://127.0.0.1:{node.metrics_port}/metrics', timeout=5) as response:
        return response.read().decode()


class Probe:
    """Publishers of the topics the figures node listens to."""

    def __init__(self, ros, node):
        self.ros, self.figures = ros, node
        p = self.node = ros.node('figures_probe')
        self.state = p.create_publisher(DialogueState, '/dialogue/state', LATCHED)
        self.people = p.create_publisher(VisitorEvent, '/people/events', RELIABLE)
        self.heard = p.create_publisher(RecognizedSpeech, '/speech/recognized', RELIABLE)
        self.touch = p.create_publisher(VisitorInput, '/visitor/input', RELIABLE)
        self.say_pub = p.create_publisher(SayRequest, '/speech/say', RELIABLE)
        self.health = p.create_publisher(ComponentHealth, HEALTH_TOPIC, 10)
        for pub in (self.state, self.people, self.heard, self.touch, self.say_pub, self.health):
            ros.wait_for(lambda pub=pub: pub.get_subscription_count() > 0, 10, f'subscriber of {pub.topic_name}')
        self.says = 0

    def _taken(self, publish, kind):
        """Publish and wait until the node took it: the real dialogue's changes are seconds apart, and
        order across topics (an utterance, then the answer) is not guaranteed in a burst."""
        before = self.figures.recorder.seen[kind]
        publish()
        self.ros.wait_for(lambda: self.figures.recorder.seen[kind] > before, 10, f'figures to take a {kind}')

    def dialogue(self, state, **fields):
        self._taken(lambda: self.state.publish(DialogueState(state=state, **fields)), 'dialogue')

    def say(self, text, utterance_id=''):
        self.says += 1
        msg = SayRequest(utterance_id=utterance_id or f'dialogue-{self.says}', text=text, language='de')
        if msg.utterance_id.startswith('dialogue-'):
            self._taken(lambda: self.say_pub.publish(msg), 'robot_said')
        else:
            self.say_pub.publish(msg)

    def hear(self, msg):
        self._taken(lambda: (self.heard if isinstance(msg, RecognizedSpeech) else self.touch).publish(msg),
                    'visitor_spoke')


def totals(node):
    return node.store.totals()


def wait_counts(ros, node, expected, what):
    """Wait until the database holds exactly ``expected``; the failure shows what it holds."""
    try:
        ros.wait_for(lambda: totals(node) == expected, 10, what)
    except BaseException:
        print('counts in the database:', totals(node))
        raise


def test_a_working_conversation_is_counted_and_exported(ros, tmp_path):
    node = start(ros, tmp_path)
    probe = Probe(ros, node)
    responses = load_responses()

    probe.people.publish(VisitorEvent(event=VisitorEvent.APPROACHED, person_id=7, distance=1.2))
    probe.dialogue('idle')
    probe.dialogue('greeting', session_id='s1', language='de', last_robot_text='Guten Tag')
    probe.hear(RecognizedSpeech(text=SAID, language='de', confidence=0.9, source='vosk'))
    probe.say(responses.text('not_understood', 'de'))
    probe.dialogue('listening', session_id='s1', language='de', intent='out_of_scope', last_user_text=SAID)
    probe.hear(VisitorInput(action='checkin', value=BOOKING, language='tr'))
    probe.say('Bir dakika lütfen')
    probe.dialogue('checkin', session_id='s1', language='tr', intent='appointment_checkin', last_user_text=SAID,
                   last_robot_text=ROBOT_SAID, target_id='meldestelle')
    probe.dialogue('confirming', session_id='s1', language='tr', intent='appointment_checkin',
                   target_id='wartebereich', display_number=f'{SURNAME} {BOOKING}', last_user_text='***',
                   last_robot_text=ROBOT_SAID, choices=['yes', 'no'], candidates=[SURNAME])
    probe.say(f'Escort prompt {SURNAME}', utterance_id='escort-1')  # not the dialogue's: no answer
    probe.people.publish(VisitorEvent(event=VisitorEvent.LEFT, person_id=7, distance=3.0))
    probe.dialogue('idle')

    expected = {('greeted', ''): 1, ('conversations', ''): 1, ('not_understood', ''): 1,
                ('intent', 'out_of_scope'): 1, ('intent', 'appointment_checkin'): 1,
                ('department', 'meldestelle'): 1, ('checkins', ''): 1, ('language', 'tr'): 1}
    wait_counts(ros, node, expected, 'the conversation\'s counts')
    ros.wait_for(lambda: sum(node.store.answer_histogram().values()) == 2, 10, 'two answer times')

    m = scrape(node)
    assert m[('l2b2_visitors_greeted_total', ())] == 1
    assert m[('l2b2_conversations_total', ())] == 1
    assert m[('l2b2_checkins_total', ())] == 1
    assert m[('l2b2_not_understood_total', ())] == 1
    assert m[('l2b2_conversation_languages_total', (('language', 'tr'),))] == 1
    assert m[('l2b2_departments_total', (('department', 'meldestelle'),))] == 1
    assert m[('l2b2_answer_time_seconds_count', ())] == 2
    assert m[('l2b2_escorts_total', (('outcome', 'visitor_lost'),))] == 0

    # Privacy: neither the surname, nor the booking number, nor any words said are in the file or the metrics.
    node.store._read('PRAGMA wal_checkpoint(FULL)')
    stored = repr(list(node.store.dump())) + repr(node.store._read('SELECT * FROM sqlite_master'))
    raw = b''.join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith('figures.sqlite'))
    text = metrics_text(node)
    for secret in (SURNAME, BOOKING, 'Termin', 'Guten Tag', 'Bir dakika', 'verstanden', 'Escort prompt'):
        assert secret not in stored and secret.encode() not in raw and secret not in text, secret
    assert {len(row) for row in node.store.dump()} <= {3, 4}


def test_escort_outcomes_from_the_action(ros, tmp_path):
    node = start(ros, tmp_path)
    outcomes = {'meldestelle': EscortOutcome.ARRIVED, 'pass_ausweis': EscortOutcome.VISITOR_LOST,
                'info': EscortOutcome.NAVIGATION_FAILED}

    def execute(goal_handle):
        outcome = outcomes[goal_handle.request.target_id]
        if outcome == EscortOutcome.ARRIVED:
            goal_handle.succeed()
        else:
            goal_handle.abort()
        return Escort.Result(outcome=int(outcome), message='test')

    # Action server and client are made before the node spins (see RosHarness._spin).
    escort = rclpy.create_node('fake_escort', context=ros.context)
    server = ActionServer(escort, Escort, '/escort', execute_callback=execute)
    client = ActionClient(escort, Escort, '/escort')
    ros.add(escort)
    ros.wait_for(client.server_is_ready, 10, 'escort server')
    ros.wait_for(lambda: escort.count_subscribers('/escort/_action/status') > 0, 10, 'figures on the status')
    for target in outcomes:
        handle = ros.wait_future(client.send_goal_async(Escort.Goal(target_id=target, with_visitor=True)), 10, 'goal')
        assert handle.accepted
        ros.wait_future(handle.get_result_async(), 10, 'result')
    expected = {('escort', 'succeeded'): 1, ('escort', 'visitor_lost'): 1, ('escort', 'failed'): 1}
    wait_counts(ros, node, expected, 'escort counts')
    m = scrape(node)
    assert m[('l2b2_escorts_total', (('outcome', 'visitor_lost'),))] == 1
    assert m[('l2b2_escorts_total', (('outcome', 'succeeded'),))] == 1
    assert server is not None


def test_health_gauges_and_stale_components(ros, tmp_path):
    node = start(ros, tmp_path)
    probe = Probe(ros, node)
    probe.health.publish(ComponentHealth(component='asr', level=ComponentHealth.DEGRADED, message='no model'))

    def level(component):
        return scrape(node).get(('l2b2_component_health', (('component', component),)))

    ros.wait_for(lambda: level('asr') == 1, 10, 'asr degraded')
    ros.wait_for(lambda: level('asr') == 3, 10, 'asr stale after 0.5 s of silence')
    ros.wait_for(lambda: level('figures') == 0, 10, 'the node\'s own health')


def test_alerts_are_counted(ros, tmp_path):
    from l2b2_interfaces.msg import StaffAlert, StaffAlerts
    node = start(ros, tmp_path)
    probe = ros.node('alerts_probe')
    pub = probe.create_publisher(StaffAlerts, '/office/alerts', LATCHED)
    ros.wait_for(lambda: pub.get_subscription_count() > 0, 10, 'alerts subscriber')
    pub.publish(StaffAlerts(alerts=[]))
    pub.publish(StaffAlerts(alerts=[StaffAlert(id='estop-1', kind='estop', active=True),
                                    StaffAlert(id='lost-2', kind='visitor_lost', active=False)]))
    wait_counts(ros, node, {('alert', 'estop'): 1, ('alert', 'visitor_lost'): 1}, 'alerts')
    m = scrape(node)
    assert m[('l2b2_alerts_active', (('kind', 'estop'),))] == 1
    assert m[('l2b2_alerts_raised_total', (('kind', 'estop'),))] == 1


def test_close_stops_the_endpoint_and_keeps_the_counts(ros, tmp_path):
    node = start(ros, tmp_path)
    probe = Probe(ros, node)
    probe.dialogue('idle')
    probe.dialogue('listening', session_id='x', language='tr', intent='ticket')
    ros.wait_for(lambda: totals(node).get(('conversations', '')) == 1, 10, 'a conversation')
    port = node.metrics_port
    node.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f'http://127.0.0.1:{port}/metrics', timeout=2)
    with FiguresStore(tmp_path / 'figures.sqlite', readonly=True) as store:
        # closing counted the language of the conversation under way
        assert store.totals() == {('conversations', ''): 1, ('intent', 'ticket'): 1, ('language', 'tr'): 1}


def test_a_restarted_node_does_not_count_the_latched_past_again(ros, tmp_path):
    earlier = ros.node('dialogue_before')
    state = earlier.create_publisher(DialogueState, '/dialogue/state', LATCHED)
    state.publish(DialogueState(state='ticket', session_id='old', language='tr', intent='ticket',
                                target_id='meldestelle'))
    node = start(ros, tmp_path)
    ros.wait_for(lambda: node.recorder.seen['dialogue'] == 1, 10, 'the latched state')
    probe = Probe(ros, node)
    probe.dialogue('confirming', session_id='old', language='tr', intent='ticket', display_number='5')
    probe.dialogue('greeting', session_id='new', language='de')
    wait_counts(ros, node, {('conversations', ''): 1}, 'only the new conversation')


def test_bad_settings_name_the_parameter(ros, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(ParameterError, match='database') as error:
        start(ros, tmp_path, database=str(blocker / 'figures.sqlite'))
    assert str(blocker / 'figures.sqlite') in str(error.value)
    with pytest.raises(ParameterError, match='timezone'):
        start(ros, tmp_path, timezone='Mars/Olympus')
    first = start(ros, tmp_path)
    with pytest.raises(ParameterError, match='metrics_port'):
        start(ros, tmp_path, database=str(tmp_path / 'other.sqlite'), metrics_port=first.metrics_port)

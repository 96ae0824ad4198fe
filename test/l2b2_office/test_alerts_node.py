"""Issue 16, staff alerts end to end: the alerts node on a real ROS graph — a stop raises an alert on
/office/alerts, staff acknowledge it through the service, the audit log has it, the time-based rules
fire with small thresholds, and with SMTP enabled the e-mail reaches a real local SMTP server."""
from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy
import json
import socket
import threading

from aiosmtpd.controller import Controller
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth, SafetyState, StaffAlert, StaffAlerts
from l2b2_interfaces.srv import AcknowledgeAlert
import pytest
from rclpy.action import ActionClient, ActionServer
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.parameter import Parameter
from sensor_msgs.msg import BatteryState

from l2b2_common.config import ConfigError, config_path, load_yaml
from l2b2_common.health import HEALTH_TOPIC
from l2b2_common.node_main import EXIT_CONFIG_ERROR
from l2b2_common.qos import LATCHED
from l2b2_common.tunables import ParameterError, describe, validated
from l2b2_dialogue.checkin import CHECKIN_ALERT
from l2b2_office.alert_rules import RuleConfig
from l2b2_office.alerts import Severity
from l2b2_office.alerts_node import ACKNOWLEDGE_SERVICE, ALERTS_TOPIC, AlertsNode, AlertsParams, main


class Probe:
    """The panel's side: the latest /office/alerts, the acknowledge client, publishers of what the stack reports."""

    def __init__(self, ros):
        self.ros = ros
        self.node = node = ros.node('alerts_probe')
        self.lock = threading.Lock()
        self.latest: StaffAlerts | None = None
        node.create_subscription(StaffAlerts, ALERTS_TOPIC, self._on_alerts, LATCHED)
        self.ack = node.create_client(AcknowledgeAlert, ACKNOWLEDGE_SERVICE)
        self.safety = node.create_publisher(SafetyState, '/safety/state', LATCHED)
        self.health = node.create_publisher(ComponentHealth, HEALTH_TOPIC, 10)
        self.battery = node.create_publisher(BatteryState, '/battery', 10)

    def _on_alerts(self, msg: StaffAlerts) -> None:
        with self.lock:
            self.latest = msg

    def alerts(self) -> list[StaffAlert]:
        with self.lock:
            return list(self.latest.alerts) if self.latest is not None else []

    def wait_alert(self, what: str, timeout: float = 15.0, **fields) -> StaffAlert:
        def match():
            return next((a for a in self.alerts() if all(getattr(a, k) == v for k, v in fields.items())), None)
        return self.ros.wait_for(match, timeout, what)

    def acknowledge(self, alert_id: str, user: str) -> AcknowledgeAlert.Response:
        self.ros.wait_for(self.ack.service_is_ready, 15.0, ACKNOWLEDGE_SERVICE)
        return self.ros.wait_future(self.ack.call_async(AcknowledgeAlert.Request(id=alert_id, user=user)), 15.0,
                                    'acknowledge answer')

    def publish_health(self, component: str, level: int, message: str) -> None:
        self.health.publish(ComponentHealth(component=component, level=level, message=message))


def start(ros, tmp_path, **overrides) -> AlertsNode:
    params = {'audit_log': str(tmp_path / 'alerts_audit.jsonl'), 'check_period_s': 0.05, **overrides}
    return ros.add(AlertsNode(context=ros.context,
                              parameter_overrides=[Parameter(k, value=v) for k, v in params.items()]))


def test_estop_alert_acknowledged_by_staff_and_audited(ros, tmp_path, capfd):
    start(ros, tmp_path)
    probe = Probe(ros)
    ros.wait_for(lambda: probe.latest is not None, 15.0, 'the latched (empty) alert list')
    assert probe.alerts() == []

    probe.safety.publish(SafetyState(estop_active=True, estop_source='panel:anna'))
    alert = probe.wait_alert('the estop alert', kind='estop')
    assert (alert.severity, alert.source, alert.active, alert.acknowledged) == \
        (StaffAlert.CRITICAL, 'safety_gate', True, False)
    assert alert.text == 'Emergency stop engaged (safety_gate).' and alert.raised.sec > 1_700_000_000

    unknown = probe.acknowledge('estop-999', 'anna')
    assert not unknown.success and 'no alert with that id' in unknown.message
    done = probe.acknowledge(alert.id, 'anna')
    assert done.success, done.message
    seen = probe.wait_alert('the acknowledgement', id=alert.id, acknowledged=True)
    assert seen.acknowledged_by == 'anna' and seen.active and seen.acknowledged_at.sec >= alert.raised.sec

    probe.safety.publish(SafetyState(estop_active=False))
    ros.wait_for(lambda: probe.latest is not None and probe.alerts() == [], 15.0, 'the alert gone after release')

    # A late joiner (the panel starting now) gets the current list at once: latched.
    late = ros.node('late_panel')
    got = []
    late.create_subscription(StaffAlerts, ALERTS_TOPIC, got.append, LATCHED)
    ros.wait_for(lambda: got, 15.0, 'the latched list for a late joiner')

    lines = [json.loads(line) for line in (tmp_path / 'alerts_audit.jsonl').read_text(encoding='utf-8').splitlines()]
    assert [(e['event'], e['id'], e['kind'], e['source']) for e in lines] == [
        ('raised', alert.id, 'estop', 'safety_gate'), ('acknowledged', alert.id, 'estop', 'safety_gate'),
        ('cleared', alert.id, 'estop', 'safety_gate')]
    assert lines[1]['user'] == 'anna'
    logs = capfd.readouterr()
    assert f'alert {alert.id}: Emergency stop engaged' in logs.out + logs.err


def test_time_based_and_health_rules_through_the_node(ros, tmp_path, capfd):
    node = start(ros, tmp_path, stuck_after_s=0.5, queue_down_after_s=0.3, node_missing_after_s=1.0)
    probe = Probe(ros)
    ros.wait_for(lambda: probe.latest is not None, 15.0, 'the alert list')

    # A real Escort action (the escort's own topics and QoS) whose goal does not get anywhere: stuck;
    # the goal's end (its status) ends the alert.
    stop = threading.Event()

    def execute(goal_handle):
        fb = Escort.Feedback(phase='navigating', distance_remaining=12.0,
                             visitor_status=Escort.Feedback.VISITOR_FOLLOWING)
        while not stop.wait(0.05):  # the escort's feedback, always the same place
            goal_handle.publish_feedback(fb)
        goal_handle.abort()
        return Escort.Result(outcome=Escort.Result.NAVIGATION_FAILED)

    server_node = ros.node('fake_escort')
    ActionServer(server_node, Escort, '/escort', execute_callback=execute, callback_group=ReentrantCallbackGroup())
    client = ActionClient(probe.node, Escort, '/escort')
    ros.wait_for(client.server_is_ready, 15.0, 'the escort action')
    try:
        accepted = ros.wait_future(client.send_goal_async(Escort.Goal(target_id='meldestelle', with_visitor=True)),
                                   15.0, 'goal accepted')
        assert accepted.accepted
        stuck = probe.wait_alert('the stuck alert', kind='stuck')
        assert stuck.severity == StaffAlert.CRITICAL and stuck.source == 'escort' and stuck.active
    finally:
        stop.set()
    probe.wait_alert('the stuck alert ended', kind='stuck', active=False)

    # The appointment system in ERROR for longer than queue_down_after_s; the escort losing the visitor;
    # repeated check-in failures; a critical battery.
    probe.publish_health('queue_bridge', ComponentHealth.ERROR, 'appointment system unavailable: circuit open')
    probe.publish_health('escort', ComponentHealth.DEGRADED, 'visitor lost on the way to meldestelle')
    probe.publish_health('dialogue', ComponentHealth.DEGRADED, CHECKIN_ALERT)
    probe.battery.publish(BatteryState(percentage=0.05))
    probe.wait_alert('appointment system down', kind='queue_down', source='queue_bridge')
    assert probe.wait_alert('visitor lost', kind='visitor_lost').severity == StaffAlert.WARNING
    probe.wait_alert('check-in failures', kind='checkin_failures', source='dialogue')
    probe.wait_alert('battery critical', kind='battery_critical', severity=StaffAlert.CRITICAL)

    # Components heard once and then silent (the test's probe publishes no heartbeat): node_missing.
    for name in ('queue_bridge', 'escort', 'dialogue'):
        probe.wait_alert(f'{name} missing', kind='node_missing', source=name)
    assert not [a for a in probe.alerts() if a.kind == 'node_missing' and a.source == 'alerts']  # never itself
    probe.publish_health('escort', ComponentHealth.OK, 'at home')  # back: both escort alerts end
    probe.wait_alert('escort back', kind='node_missing', source='escort', active=False)
    probe.wait_alert('visitor lost ended', kind='visitor_lost', active=False)
    assert len({a.id for a in probe.alerts()}) == len(probe.alerts())
    assert node.health.level == ComponentHealth.OK

    logs = capfd.readouterr()
    assert 'meldestelle' not in json.dumps([a.text for a in probe.alerts()])  # texts come from templates only
    assert 'meldestelle' not in logs.out + logs.err  # nor does the node log what others report


def test_alert_email_reaches_a_local_smtp_server(ros, tmp_path):
    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(message_from_bytes(envelope.content, policy=default_policy))
            return '250 OK'

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    smtp = Controller(Inbox(), hostname='127.0.0.1', port=port)
    smtp.start()
    try:
        start(ros, tmp_path, smtp_enabled=True, smtp_host='127.0.0.1', smtp_port=port, smtp_starttls=False,
              mail_from='l2b2@buergerbuero.example', mail_to=['leitstand@buergerbuero.example'], robot_name='l2b2-eg')
        probe = Probe(ros)
        probe.safety.publish(SafetyState(estop_active=True, estop_source='bumper'))
        alert = probe.wait_alert('the estop alert', kind='estop')
        ros.wait_for(lambda: received, 15.0, 'the alert e-mail')
    finally:
        smtp.stop()
    mail = received[0]
    assert mail['Subject'] == '[l2b2-eg] CRITICAL: estop (safety_gate)'
    assert mail['To'] == 'leitstand@buergerbuero.example'
    assert f'Alert id: {alert.id}' in mail.get_content() and 'Robot:    l2b2-eg' in mail.get_content()


def test_smtp_enabled_without_server_or_recipients_is_a_clear_configuration_error(ros, tmp_path):
    with pytest.raises(ConfigError) as exc:
        start(ros, tmp_path, smtp_enabled=True, mail_to=['a@b.example'], mail_from='l2b2@b.example')
    assert 'config/alerts.yaml' in str(exc.value) and exc.value.key == 'smtp_host'
    with pytest.raises(ConfigError) as exc:
        start(ros, tmp_path, smtp_enabled=True, smtp_host='smtp.example', mail_from='l2b2@b.example')
    assert exc.value.key == 'mail_to'
    with pytest.raises(ConfigError) as exc:
        start(ros, tmp_path, smtp_enabled=True, smtp_host='smtp.example', mail_from='l2b2@b.example',
              mail_to=['a@b.example'], smtp_user='robot', smtp_password_file=str(tmp_path / 'none'))
    assert exc.value.key == 'smtp_password_file'
    with pytest.raises(ParameterError, match='battery_clear_percent'):
        start(ros, tmp_path, battery_critical_percent=20.0, battery_clear_percent=15.0)


def test_main_reports_the_configuration_error_and_exits(tmp_path, capfd):
    code = main(['l2b2-alerts', '--ros-args', '--params-file', str(config_path('alerts.yaml')),
                 '-p', 'smtp_enabled:=true', '-p', f'audit_log:={tmp_path / "audit.jsonl"}'])
    assert code == EXIT_CONFIG_ERROR
    err = capfd.readouterr().err
    assert 'configuration error: config/alerts.yaml: smtp_host: needs a value when smtp_enabled is true' in err


def test_alerts_yaml_sets_only_declared_parameters_with_valid_values():
    values = dict(load_yaml(config_path('alerts.yaml'))['alerts']['ros__parameters'])
    assert values.pop('use_sim_time') is False
    names = {p.name for p in describe(AlertsParams)} | {p.name for p in describe(RuleConfig)}
    assert set(values) == names  # every parameter is shown in the file, none misspelt
    params = validated(AlertsParams, 'config/alerts.yaml', **{k: v for k, v in values.items()
                                                               if k in {p.name for p in describe(AlertsParams)}})
    rules = validated(RuleConfig, 'config/alerts.yaml', **{k: v for k, v in values.items()
                                                            if k in {p.name for p in describe(RuleConfig)}})
    assert params.smtp_enabled is False and rules.battery_clear_percent > rules.battery_critical_percent
    assert all(p.description for p in describe(AlertsParams) + describe(RuleConfig))
    assert int(Severity.WARNING) == StaffAlert.WARNING and int(Severity.CRITICAL) == StaffAlert.CRITICAL

"""``l2b2-alerts``: staff alerts (issue 16) — raised from what the stack reports, shown until acknowledged.

Watches /safety/state, the escort action's feedback and goal status (its hidden topics, so the escort
needs no change), /battery and /l2b2/health; :mod:`~l2b2_office.alert_rules` decides, the
:class:`~l2b2_office.alerts.AlertBook` keeps the alerts and writes the audit log, and
:class:`~l2b2_office.mailer.AlertMailer` e-mails each new alert when ``smtp_enabled``.

* ``/office/alerts`` (StaffAlerts, latched): every alert not yet acknowledged or still active, newest
  first, published at start and on every change. The panel shows them with sound while any is
  unacknowledged.
* ``/office/acknowledge_alert`` (AcknowledgeAlert): a staff user saw the alert ``id``.

Alert times are wall-clock times (what staff and the audit log need), the rules' thresholds run on the
monotonic clock, and the periodic check on a steady timer: nothing here waits for simulated time.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import time
from typing import Any

from action_msgs.msg import GoalStatus, GoalStatusArray
from builtin_interfaces.msg import Time
from l2b2_interfaces.action import Escort
from l2b2_interfaces.msg import ComponentHealth, SafetyState, StaffAlert, StaffAlerts
from l2b2_interfaces.srv import AcknowledgeAlert
from rclpy.clock import Clock, ClockType
from sensor_msgs.msg import BatteryState

from l2b2_common.config import ConfigError
from l2b2_common.health import DEGRADED, HEALTH_TOPIC, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.qos import LATCHED, RELIABLE, SENSOR
from l2b2_common.tunables import ParameterError, declare_tunables, tunable
from l2b2_office.alert_rules import AlertRules, Decision, RuleConfig
from l2b2_office.alerts import Alert, AlertAudit, AlertBook
from l2b2_office.mailer import AlertMailer, MailConfigError, MailSettings, read_password
from l2b2_panel.auth import default_users_file

#: The node's settings live here in the stack (configuration errors name this file and the key).
ALERTS_CONFIG = 'config/alerts.yaml'
ALERTS_TOPIC = '/office/alerts'
ACKNOWLEDGE_SERVICE = '/office/acknowledge_alert'
#: Goal states after which an escort goal makes no more progress (action_msgs/GoalStatus).
FINISHED = frozenset({GoalStatus.STATUS_SUCCEEDED, GoalStatus.STATUS_CANCELED, GoalStatus.STATUS_ABORTED})


@dataclass(frozen=True)
class AlertsParams:
    """The node's own settings; the rules' thresholds are :class:`~l2b2_office.alert_rules.RuleConfig`."""

    check_period_s: float = tunable(1.0, 'How often the time-based rules (stuck, appointment system down, '
                                    'component missing) are checked (s).', min=0.02, max=60.0)
    max_history: int = tunable(500, 'Alerts kept in memory; acknowledged, ended ones go first.', min=10, max=100000)
    audit_log: str = tunable('', "Alert audit log (JSON lines); empty: alerts_audit.jsonl beside the panel's "
                             'users file ($L2B2_STATE_DIR or ~/.local/state/l2b2).')
    robot_name: str = tunable('l2b2', 'This robot in e-mails (several robots may write to one address).')
    smtp_enabled: bool = tunable(False, 'E-mail every new alert through the SMTP server below.')
    smtp_host: str = tunable('', "The city's SMTP server (required when smtp_enabled).")
    smtp_port: int = tunable(587, 'SMTP port (587: submission with STARTTLS).', min=1, max=65535)
    smtp_starttls: bool = tunable(True, 'Encrypt with STARTTLS (the server certificate is verified).')
    smtp_user: str = tunable('', 'SMTP login; its password comes from $L2B2_SMTP_PASSWORD or smtp_password_file. '
                             'Empty: no login.')
    smtp_password_file: str = tunable('', 'File holding the SMTP password (when $L2B2_SMTP_PASSWORD is unset); '
                                      'keep it outside the repository, readable by the robot user only.')
    smtp_timeout_s: float = tunable(10.0, 'Timeout of one SMTP connection and reply (s).', min=0.5, max=120.0)
    mail_from: str = tunable('', 'Sender address (required when smtp_enabled).')
    mail_to: list = tunable([], 'Recipient addresses (required when smtp_enabled).', item_type=str)
    mail_queue_size: int = tunable(50, 'E-mails waiting while the server is slow; more are dropped (and counted).',
                                   min=1, max=10000)


class AlertsNode(LeanNode):
    def __init__(self, **kwargs: Any):
        super().__init__('alerts', **kwargs)
        self.p = p = declare_tunables(self, AlertsParams)
        self.rule_config = rc = declare_tunables(self, RuleConfig)
        if rc.battery_clear_percent < rc.battery_critical_percent:
            raise ParameterError(self.get_name(), 'battery_clear_percent',
                                 f'{rc.battery_clear_percent} is below battery_critical_percent '
                                 f'{rc.battery_critical_percent}')
        settings = self._mail_settings() if p.smtp_enabled else None
        audit_path = Path(p.audit_log).expanduser() if p.audit_log else default_users_file().parent / 'alerts_audit.jsonl'
        try:
            self.audit = AlertAudit(audit_path)
        except OSError as exc:
            raise ConfigError(ALERTS_CONFIG, 'audit_log', f'cannot create {audit_path.parent}: {exc.strerror}') from None
        self.health = HealthReporter(self, 'alerts')
        self.mailer = AlertMailer(settings) if settings is not None else None
        self._mail_failed = 0
        self.book = AlertBook(self.audit, p.max_history, on_raise=self.mailer.submit if self.mailer else None)
        self.rules = AlertRules(rc, time.monotonic(), self_component='alerts')

        self.pub = self.create_publisher(StaffAlerts, ALERTS_TOPIC, LATCHED)
        self.create_subscription(SafetyState, '/safety/state', self._on_safety, LATCHED)
        self.create_subscription(Escort.Impl.FeedbackMessage, '/escort/_action/feedback', self._on_feedback, RELIABLE)
        self.create_subscription(GoalStatusArray, '/escort/_action/status', self._on_status, LATCHED)
        self.create_subscription(BatteryState, '/battery', self._on_battery, SENSOR)
        self.create_subscription(ComponentHealth, HEALTH_TOPIC, self._on_health, 50)
        self.create_service(AcknowledgeAlert, ACKNOWLEDGE_SERVICE, self._on_acknowledge)
        self.create_timer(p.check_period_s, self._on_check, clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._publish()
        self._update_health()
        mail = f'e-mail to {len(settings.mail_to)} recipient(s) via {settings.host}' if settings else 'no e-mail'
        self.get_logger().info(f'staff alerts on {ALERTS_TOPIC}, audit log {audit_path}, {mail}')

    def _mail_settings(self) -> MailSettings:
        """SMTP settings, or a configuration error naming config/alerts.yaml and the missing key."""
        p = self.p
        for key, missing in (('smtp_host', not p.smtp_host.strip()), ('mail_from', '@' not in p.mail_from),
                             ('mail_to', not p.mail_to or any('@' not in a for a in p.mail_to))):
            if missing:
                raise ConfigError(ALERTS_CONFIG, key, 'needs a value when smtp_enabled is true'
                                  + (' (e-mail addresses)' if key != 'smtp_host' else ''))
        try:
            password = read_password(p.smtp_user, p.smtp_password_file)
        except MailConfigError as exc:
            raise ConfigError(ALERTS_CONFIG, exc.key, exc.reason) from None
        return MailSettings(host=p.smtp_host.strip(), port=p.smtp_port, mail_from=p.mail_from, mail_to=list(p.mail_to),
                            robot_name=p.robot_name, starttls=p.smtp_starttls, user=p.smtp_user, password=password,
                            timeout_s=p.smtp_timeout_s, queue_size=p.mail_queue_size)

    # -- observations ---------------------------------------------------------------------------------------
    def _on_safety(self, msg: SafetyState) -> None:
        self._apply(self.rules.on_safety(bool(msg.estop_active), time.monotonic()))

    def _on_feedback(self, msg) -> None:
        fb = msg.feedback
        position = fb.current_pose.pose.position
        self._apply(self.rules.on_escort_feedback(
            _goal_key(msg.goal_id.uuid), fb.phase, float(fb.distance_remaining), int(fb.visitor_status),
            float(position.x), float(position.y), time.monotonic()))

    def _on_status(self, msg: GoalStatusArray) -> None:
        goals = [(_goal_key(s.goal_info.goal_id.uuid), s.status in FINISHED) for s in msg.status_list]
        self._apply(self.rules.on_escort_status(goals, time.monotonic()))

    def _on_battery(self, msg: BatteryState) -> None:
        self._apply(self.rules.on_battery(float(msg.percentage), time.monotonic()))

    def _on_health(self, msg: ComponentHealth) -> None:
        self._apply(self.rules.on_health(msg.component, int(msg.level), msg.message, time.monotonic()))

    def _on_check(self) -> None:
        self._apply(self.rules.tick(time.monotonic()))
        self._update_health()

    # -- staff ----------------------------------------------------------------------------------------------
    def _on_acknowledge(self, request: AcknowledgeAlert.Request,
                        response: AcknowledgeAlert.Response) -> AcknowledgeAlert.Response:
        result = self.book.acknowledge(request.id, request.user, time.time())
        response.success, response.message = result.success, result.message
        if result.changed:
            self.get_logger().info(f'alert {result.alert.id} acknowledged by {result.alert.acknowledged_by}')
            self._publish()
        return response

    # -- internals ------------------------------------------------------------------------------------------
    def _apply(self, decisions: list[Decision]) -> None:
        changed = False
        now = time.time()
        for d in decisions:
            if d.raise_:
                alert = self.book.raise_(d.kind, d.source, now)
                if alert is not None:
                    self.get_logger().warning(f'alert {alert.id}: {alert.text}')
            else:
                alert = self.book.clear(d.kind, d.source, now)
                if alert is not None:
                    self.get_logger().info(f'alert {alert.id} ended ({alert.kind} from {alert.source})')
            changed = changed or alert is not None
        if changed:
            self._publish()

    def _publish(self) -> None:
        msg = StaffAlerts(alerts=[_to_msg(a) for a in self.book.pending()])
        msg.header.stamp = _stamp(time.time())
        self.pub.publish(msg)

    def _update_health(self) -> None:
        pending = len(self.book.pending())
        problems = []
        if self.audit.failures:
            problems.append(f'audit log not writable ({self.audit.last_error})')
        if self.mailer is not None:
            stats = self.mailer.stats
            if stats.failed > self._mail_failed:
                self._mail_failed = stats.failed
                self.get_logger().warning(f'alert e-mail failed ({stats.failed} so far): {stats.last_error}')
            if stats.last_error:
                problems.append(f'alert e-mail failing: {stats.last_error}')
        if problems:
            self.health.set(DEGRADED, '; '.join(problems)[:200], pending=pending)
        else:
            self.health.set(OK, 'watching', pending=pending)

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()


def _goal_key(uuid) -> str:
    return bytes(int(b) for b in uuid).hex()


def _stamp(t: float) -> Time:
    sec = int(t)
    return Time(sec=sec, nanosec=int((t - sec) * 1e9))


def _to_msg(a: Alert) -> StaffAlert:
    msg = StaffAlert(id=a.id, kind=a.kind, severity=int(a.severity), source=a.source, text=a.text,
                     raised=_stamp(a.raised), active=a.active, acknowledged=a.acknowledged,
                     acknowledged_by=a.acknowledged_by)
    if a.acknowledged_at is not None:
        msg.acknowledged_at = _stamp(a.acknowledged_at)
    return msg


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: AlertsNode(), args)


if __name__ == '__main__':
    raise SystemExit(main())

"""The queue bridge's parameters as one dataclass (no ROS import): the node declares them as ROS
parameters, ``l2b2-queue-check`` reads the same names and defaults from config/queue_bridge.yaml."""
from __future__ import annotations

from dataclasses import dataclass

from l2b2_common.tunables import tunable
from l2b2_queue_bridge.zms_adapter import CHECK_IN_MODES


@dataclass(frozen=True)
class QueueBridgeParams:
    """The node's parameters (config/queue_bridge.yaml); the single source of names, defaults and bounds."""

    base_url: str = tunable('http://127.0.0.1:8090/', 'Base URL of the ZMS API (the embedded server by default).')
    timeout_s: float = tunable(2.0, 'Timeout of one HTTP attempt (connect and read), seconds.', min=0.05, max=10.0)
    call_budget_s: float = tunable(2.0, 'Upper bound of one HTTP call including retries, seconds.',
                                   min=0.05, max=30.0)
    service_deadline_s: float = tunable(2.0, 'Upper bound of one service call: all its HTTP calls and retries '
                                        'share it, seconds.', min=0.1, max=30.0)
    read_retries: int = tunable(2, 'Extra attempts for idempotent reads after a timeout, refusal or 5xx.',
                                min=0, max=5)
    backoff_s: float = tunable(0.1, 'Base of the exponential back-off (full jitter) between retries, seconds.',
                               min=0.0, max=5.0)
    breaker_failures: int = tunable(3, 'Consecutive failed calls that open the circuit.', min=1, max=100)
    breaker_reset_s: float = tunable(10.0, 'Seconds the circuit stays open before one trial call.',
                                     min=0.5, max=600.0)
    login_name: str = tunable('', 'Workstation user the robot logs in as (POST /workstation/login/); its '
                              'password comes from $L2B2_ZMS_PASSWORD or password_file. Empty: no login.')
    password_file: str = tunable('', 'File holding the workstation password (when $L2B2_ZMS_PASSWORD is unset).')
    session_duration_s: float = tunable(36000.0, "The system's session lifetime (upstream SESSION_DURATION).",
                                        min=2.0, max=7 * 86400.0)
    renew_before_s: float = tunable(600.0, 'Renew the session this long before it expires, seconds.',
                                    min=0.5, max=86400.0)
    staff_auth_key: str = tunable('', 'A fixed X-Authkey for staff calls (the embedded server\'s demo key) when '
                                  'there is no login; empty: $L2B2_ZMS_STAFF_KEY.')
    idempotency_header: str = tunable('', 'Deprecated and ignored: upstream has no idempotency header; a draw '
                                      'that may have reached the system is never repeated.')
    check_in_mode: str = tunable('verify', 'verify: a valid booking of today is confirmed, nothing is written '
                                 '(upstream queues confirmed appointments from the start); status_queued: also '
                                 'record the arrival (POST /process/status/queued/).', choices=CHECK_IN_MODES)
    check_in_early_min: float = tunable(60.0, 'Check-in opens this many minutes before the appointment.',
                                        min=0.0, max=24 * 60.0)
    check_in_late_min: float = tunable(15.0, 'Check-in closes this many minutes after the appointment.',
                                       min=0.0, max=24 * 60.0)
    enforce_opening_hours: bool = tunable(True, 'Refuse tickets (CLOSED) outside the catalog opening hours.')
    status_cache_s: float = tunable(2.0, 'Queue status younger than this is answered from memory (panels poll); '
                                    'check-in and tickets always read afresh.', min=0.0, max=60.0)
    catalog: str = tunable('departments.yaml', 'Department catalog (file under config/ or absolute path).')
    workers: int = tunable(8, 'Threads serving appointment-system calls in parallel.', min=1, max=64)
    check_in_alert_s: float = tunable(300.0, 'A failed check-in warns staff (health) this long, or until the '
                                      'next successful check-in; 0 = no warning.', min=0.0, max=86400.0)
    probe_period_s: float = tunable(30.0, 'Period of the liveness probe that keeps health current; 0 = off.',
                                    min=0.0, max=3600.0)

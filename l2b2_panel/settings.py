"""The panel's tunables, declared once: each field is a ROS parameter of node ``panel`` (``config/panel.yaml``)."""
from __future__ import annotations

from dataclasses import dataclass

from l2b2_common.tunables import tunable


@dataclass(frozen=True)
class PanelParams:
    host: str = tunable('127.0.0.1', 'Address the web server listens on (0.0.0.0 for the office WLAN).')
    port: int = tunable(8080, 'TCP port of the web server; 0 picks a free one (tests).', min=0, max=65535)
    session_expiry_s: float = tunable(8 * 3600.0, 'Staff sessions end this long after login.',
                                      min=60.0, max=7 * 86400.0)
    users_file: str = tunable('', 'Users file (hashed passwords); empty: $L2B2_STATE_DIR or ~/.local/state/l2b2.')
    audit_log: str = tunable('', 'Audit log (JSON lines); empty: panel_audit.jsonl beside the users file.')
    demo_mode: bool = tunable(False, 'Create the documented demo user (also when L2B2_MODE=sim). '
                                     'Never on a real robot.')
    cookie_secure: bool = tunable(False, 'Mark the session cookie Secure (when served behind HTTPS).')
    visitor_networks: list[str] = tunable(['127.0.0.0/8', '::1/128'],
                                     'Client networks allowed to open the visitor screen.', item_type=str)
    update_rate_hz: float = tunable(20.0, 'Most live updates per second pushed to each browser.', min=1.0, max=60.0)
    teleop_rate_hz: float = tunable(20.0, 'Rate of /cmd_vel_teleop while the joystick is held.', min=10.0, max=50.0)
    teleop_deadman_s: float = tunable(0.3, 'Stop driving when the page sent no joystick command for this long.',
                                      min=0.05, max=1.0)
    max_linear_mps: float = tunable(0.5, 'Joystick full deflection forward.', min=0.0, max=1.5)
    max_angular_rps: float = tunable(1.0, 'Joystick full deflection sideways.', min=0.0, max=3.0)
    login_max_failures: int = tunable(5, 'Failed logins per user name and client address in the window before '
                                         'that pair is slowed down.', min=1, max=100)
    login_window_s: float = tunable(300.0, 'Window for counting failed logins.', min=1.0, max=86400.0)
    stale_after_s: float = tunable(3.0, 'A component (or the whole robot) is shown stale/offline after this '
                                        'silence.', min=0.5, max=60.0)
    service_timeout_s: float = tunable(2.0, 'How long a control waits for a service answer.', min=0.1, max=30.0)
    map_yaml: str = tunable('maps/buergerbuero.yaml', 'Static floor map (Nav2 map_server YAML), relative to the '
                                                      'share dir.')
    waypoints_yaml: str = tunable('maps/buergerbuero_waypoints.yaml', 'Waypoints file, relative to the share dir.')
    catalog: str = tunable('', 'Department catalog; empty: config/departments.yaml.')
    figures_database: str = tunable('', 'Figures database shown on the staff page (read only); empty: the '
                                        'figures node\'s default, office_figures.sqlite in $L2B2_STATE_DIR or '
                                        '~/.local/state/l2b2 (a relative path is under that directory).')
    trusted_proxies: list[str] = tunable([], 'Addresses or networks of the HTTPS proxies in front of the panel whose '
                                             'X-Forwarded-For names the client (for login throttling).', item_type=str)
    allowed_hosts: list[str] = tunable([], 'Host names or addresses the panel answers to besides loopback and '
                                           '"host" (DNS rebinding defence), e.g. the robot\'s WLAN name.',
                                       item_type=str)

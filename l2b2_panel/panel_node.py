"""``l2b2-panel``: the staff panel and the visitor touch screen, served by one node beside rclpy.

The node is wiring only: its parameters (:class:`~l2b2_panel.settings.PanelParams`), the static
floor data, the aiohttp server in a thread and event loop of its own, and the
:class:`~l2b2_panel.robot_bridge.RosBridge` that turns ROS topics into the live :class:`PanelState`
and browser actions into the product's ROS interfaces (no second source of truth).

``l2b2-panel --set-password USER [--role staff|observer]`` writes the users file (``users_cli``).
"""
from __future__ import annotations

import asyncio
import ipaddress
import os
from pathlib import Path
import sys
import threading
from typing import Any

from aiohttp import web

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError, share_dir
from l2b2_common.health import DEGRADED, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.maps import OccupancyMap, load_waypoints
from l2b2_common.node_main import run_node
from l2b2_common.tunables import declare_tunables
from l2b2_panel.audit import AuditLog
from l2b2_panel.auth import Authenticator, AuthError, LoginThrottle, SessionStore, UserStore, default_users_file
from l2b2_panel.robot_bridge import RosBridge
from l2b2_panel.settings import PanelParams
from l2b2_panel.state import PanelState
from l2b2_panel.teleop import TeleopDeadman
from l2b2_panel.users_cli import set_password_cli, wants_cli
from l2b2_panel.views import FloorMap
from l2b2_panel.web_app import PanelWebApp, WebConfig

#: The panel's settings live here in the stack (errors name this file and the key).
PANEL_CONFIG = 'config/panel.yaml'


class PanelNode(LeanNode):
    """ROS side of the panel; ``self.bridge`` is the web app's RobotBridge."""

    def __init__(self, **kwargs: Any):
        super().__init__('panel', **kwargs)
        self.p = p = declare_tunables(self, PanelParams)
        self.health = HealthReporter(self, 'panel')
        self.state = PanelState(stale_after_s=p.stale_after_s)

        demo = p.demo_mode or os.environ.get('L2B2_MODE') == 'sim'
        users_path = Path(p.users_file) if p.users_file else default_users_file()
        try:
            users = UserStore(users_path)
        except AuthError as exc:
            raise ConfigError(users_path, 'users', str(exc)) from None
        if demo:
            users.enable_demo_user()
        audit_path = Path(p.audit_log) if p.audit_log else users_path.parent / 'panel_audit.jsonl'
        self.auth = Authenticator(users, SessionStore(p.session_expiry_s),
                                  LoginThrottle(p.login_max_failures, p.login_window_s))
        self.audit = AuditLog(audit_path)
        self.bridge = RosBridge(self, self.state, service_timeout_s=p.service_timeout_s, notify=self._notify,
                                teleop=TeleopDeadman(p.teleop_deadman_s, p.teleop_rate_hz, p.max_linear_mps,
                                                     p.max_angular_rps))
        try:
            self._start_serving(demo)
        except Exception:
            self.close()  # the stream node's thread must not outlive a node that failed to start
            raise
        if len(users) == 0:
            self.health.set(DEGRADED, f'no staff user yet: run "l2b2-panel --set-password USER" ({users_path})')
        else:
            self.health.set(OK, f'serving {self.url}' + (' (demo user enabled)' if demo else ''))

    def _start_serving(self, demo: bool) -> None:
        p = self.p
        self._load_static()
        listen = [] if p.host in ('0.0.0.0', '::', '') else [p.host]
        self.web = PanelWebApp(self.state, self.bridge, self.auth, self.audit, WebConfig(
            update_rate_hz=p.update_rate_hz, cookie_secure=p.cookie_secure,
            visitor_networks=_networks('visitor_networks', list(p.visitor_networks)), demo_mode=demo,
            home_waypoint=self._home, trusted_proxies=_networks('trusted_proxies', list(p.trusted_proxies)),
            allowed_hosts=[*listen, *p.allowed_hosts], figures_database=p.figures_database))
        self.port = self._start_web()
        self.url = f'http://{p.host}:{self.port}/'

    # --- static data -----------------------------------------------------------------------------
    def _resolve(self, name: str) -> Path:
        path = Path(name)
        return path if path.is_absolute() else share_dir() / path

    def _load_static(self) -> None:
        """Targets from the catalog (a department added there gets its button without a code change)."""
        catalog = load_catalog(self.p.catalog or None)
        self._home = catalog.home_waypoint
        targets = [{'id': t.id, 'name': dict(t.name), 'hint': dict(t.location_hint),
                    'appointments': t.scope_id is not None, 'always_open': t.always_open}
                   for t in catalog.targets.values()]
        self.state.set_static(targets, self._waypoints())
        self._static_map_loaded = False
        self._retry_timer = self.create_timer(5.0, self._retry_static, clock=self.bridge._steady)
        self._retry_static()

    def _waypoints(self) -> dict[str, dict[str, float]]:
        path = self._resolve(self.p.waypoints_yaml)
        if not path.exists():
            return {}
        return {name: {'x': w.x, 'y': w.y, 'yaw': w.yaw} for name, w in load_waypoints(path).items()}

    def _retry_static(self) -> None:
        """The floor map may be generated after the panel starts: look again (every 5 s) until it is there."""
        if not self._static_map_loaded and self.state.map_version == 0:
            path = self._resolve(self.p.map_yaml)
            if path.exists():
                try:
                    self.state.set_map(FloorMap.from_occupancy_map(OccupancyMap.from_yaml(path)))
                    self._static_map_loaded = True
                except (OSError, ValueError) as exc:  # ConfigError is a ValueError
                    self.get_logger().warning(f'cannot read floor map {path}: {exc}')
        if not self.state.waypoints:
            waypoints = self._waypoints()
            if waypoints:
                self.state.set_static(self.state.targets, waypoints)
        if (self._static_map_loaded or self.state.map_version > 0) and self.state.waypoints:
            self._retry_timer.cancel()  # everything is there: no more wake-ups
        self.bridge.notify()

    # --- web server thread -----------------------------------------------------------------------
    def _start_web(self) -> int:
        started = threading.Event()
        result: dict[str, Any] = {}

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            runner = web.AppRunner(self.web.app, access_log=None)
            try:
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self.p.host, self.p.port)
                loop.run_until_complete(site.start())
                result['port'] = runner.addresses[0][1]
            except OSError as exc:
                result['error'] = exc
                started.set()
                return
            result['loop'], result['runner'] = loop, runner
            started.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._web_thread = threading.Thread(target=serve, name='panel-web', daemon=True)
        self._web_thread.start()
        started.wait(15.0)
        if 'port' not in result:
            raise ConfigError(PANEL_CONFIG, 'panel.ros__parameters.host/port',
                              f'cannot serve on {self.p.host}:{self.p.port}: {result.get("error", "timeout")}')
        self._web_loop = result['loop']
        self.get_logger().info(f'panel on http://{self.p.host}:{result["port"]}/ (visitor screen: /visitor)')
        return result['port']

    def close(self) -> None:
        loop = getattr(self, '_web_loop', None)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
            self._web_thread.join(timeout=5.0)
        self._web_loop = None
        bridge = getattr(self, 'bridge', None)
        if bridge is not None:
            bridge.close()
            self.bridge = None

    def _notify(self) -> None:
        web_app = getattr(self, 'web', None)
        if web_app is not None:
            web_app.notify()


def _networks(key: str, entries: list[str]) -> list[str]:
    """Each entry must be a network ("192.168.1.0/24", "::1/128"): a typo must stop the start, not the page."""
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ConfigError(PANEL_CONFIG, f'panel.ros__parameters.{key}',
                              f'"{entry}" is not an IP network ({exc})') from None
    return entries


def main(args: list[str] | None = None) -> int:
    argv = sys.argv[1:] if args is None else list(args)
    if wants_cli(argv):
        return set_password_cli(argv)
    return run_node(PanelNode, args)


if __name__ == '__main__':
    sys.exit(main())

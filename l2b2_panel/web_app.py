"""The panel's web server (aiohttp): pages, login, control endpoints and the two live WebSockets.

No ROS here: everything the robot does goes through a :class:`RobotBridge` the node implements,
so this module is the one place that decides who may do what. Rules:

- every control and the staff stream need a session cookie (HttpOnly, SameSite=Strict); controls
  need the staff role (observers may only engage the emergency stop) and the session's CSRF token
  in ``X-L2B2-CSRF``;
- a request or WebSocket whose ``Origin`` is another site is refused (cross-site requests, CSWSH);
- login attempts are throttled per client address and per user name;
- the visitor screen needs no login but only offers visitor actions, and only from the robot
  itself (``visitor_networks``).
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
import hmac
import json
from pathlib import Path
import re
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from l2b2_office.figures import database_path
from l2b2_panel.audit import AuditLog
from l2b2_panel.auth import Authenticator, Session
from l2b2_panel.controls import CONTROLS, MAX_TEXT, parse_body
from l2b2_panel.figures_routes import FiguresRoutes
from l2b2_panel.state import PanelState
from l2b2_panel.web_security import (
    LOOPBACK_HOSTS,
    SECURITY_HEADERS,
    SERVER_NAME,
    client_address,
    host_allowed,
    in_networks,
    networks,
    same_origin,
)

WEB_DIR = Path(__file__).resolve().parent / 'web'
COOKIE = 'l2b2_session'
DEVICE_COOKIE = 'l2b2_device'
DEVICE_COOKIE_AGE_S = 180 * 86400
CSRF_HEADER = 'X-L2B2-CSRF'
VISITOR_LANGUAGES = ('de', 'tr', 'en')
VISITOR_ACTIONS = ('start', 'language', 'target', 'choice', 'checkin', 'ticket', 'text', 'cancel')
_TOKEN = re.compile(r'^[A-Za-z0-9_\-]{1,64}$')
#: A booking number, optionally followed by the name on the booking ("4711 Mustermann").
_BOOKING = re.compile(r"^[0-9]{1,12}( [^\W\d_][\w .'-]{0,79})?$")


class RobotBridge(Protocol):
    """What the web app asks of the robot; implemented by the panel node (blocking calls, run in a thread)."""

    def now(self) -> float: ...
    def estop_begin(self, user: str) -> Callable[[], dict[str, Any]]: ...
    def resume(self, user: str) -> dict[str, Any]: ...
    def send_to(self, target_id: str, language: str) -> dict[str, Any]: ...
    def cancel_goal(self) -> dict[str, Any]: ...
    def pause_escort(self, pause: bool) -> dict[str, Any]: ...
    def say(self, text: str, language: str) -> dict[str, Any]: ...
    def set_language(self, language: str) -> dict[str, Any]: ...
    def takeover(self, enable: bool) -> dict[str, Any]: ...
    def reset_dialogue(self) -> dict[str, Any]: ...
    def acknowledge_alert(self, alert_id: str, user: str) -> dict[str, Any]: ...
    def stay_out(self, enable: bool) -> dict[str, Any]: ...
    def dock_now(self) -> dict[str, Any]: ...
    def clear_fault(self) -> dict[str, Any]: ...
    def teleop(self, owner: int, linear: float, angular: float) -> None: ...
    def teleop_release(self, owner: int) -> None: ...
    def visitor_input(self, action: str, value: str, language: str) -> None: ...


@dataclass
class WebConfig:
    update_rate_hz: float = 20.0
    cookie_secure: bool = False
    visitor_networks: list[str] = field(default_factory=lambda: ['127.0.0.0/8', '::1/128'])
    demo_mode: bool = False
    #: The catalog's home waypoint: staff may always send the robot there.
    home_waypoint: str = 'home'
    #: Shown on the login page when nobody can log in yet.
    setup_hint: str = 'l2b2-panel --set-password USER'
    #: Proxies whose X-Forwarded-For is believed (the HTTPS proxy in front of the panel).
    trusted_proxies: list[str] = field(default_factory=list)
    #: Host names served besides loopback (DNS rebinding defence): the robot's WLAN name or address.
    allowed_hosts: list[str] = field(default_factory=list)
    #: The figures database shown on the staff page ('' = the figures node's default; l2b2_office.figures).
    figures_database: str = ''


class PanelWebApp:
    """Builds the aiohttp application; ``notify()`` may be called from any thread on state changes."""

    def __init__(self, state: PanelState, bridge: RobotBridge, auth: Authenticator, audit: AuditLog,
                 config: WebConfig | None = None):
        self.state, self.bridge, self.auth, self.audit = state, bridge, auth, audit
        self.config = config or WebConfig()
        self._visitor_nets = networks(self.config.visitor_networks)
        self._proxies = networks(self.config.trusted_proxies)
        self._hosts = (*LOOPBACK_HOSTS, *(h.lower() for h in self.config.allowed_hosts))
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tick = asyncio.Event()
        self._notify_pending = False
        self._sockets: set[web.WebSocketResponse] = set()
        self._owner_ids = 0
        self.figures = FiguresRoutes(database_path(self.config.figures_database), self._staff_only)
        self.app = self._build()

    # --- plumbing --------------------------------------------------------------------------------
    def _build(self) -> web.Application:
        app = web.Application(middlewares=[self._security], client_max_size=64 * 1024)
        app.on_startup.append(self._on_startup)
        app.on_response_prepare.append(self._headers)
        app.on_shutdown.append(self._on_shutdown)
        r = app.router
        r.add_get('/', self._page('staff.html'))
        r.add_get('/visitor', self._page('visitor.html', visitor=True))
        r.add_get('/api/session', self._session_info)
        r.add_post('/api/login', self._login)
        r.add_post('/api/logout', self._logout)
        r.add_get('/api/map', self._map)
        r.add_get('/api/audit', self._audit_recent)
        r.add_post('/api/control/{name}', self._control)
        self.figures.add_to(r)
        r.add_get('/ws/staff', self._ws_staff)
        r.add_get('/ws/visitor', self._ws_visitor)
        r.add_static('/static/', WEB_DIR, show_index=False, follow_symlinks=False)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()
        self._tick = asyncio.Event()

    async def _on_shutdown(self, app: web.Application) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b'panel shutting down')

    def notify(self) -> None:
        """Thread-safe: the live state changed; wake the WebSocket senders (coalesced)."""
        loop = self._loop
        if loop is None or self._notify_pending or loop.is_closed():
            return
        self._notify_pending = True
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        self._notify_pending = False
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()

    async def _blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    # --- security (the rules: l2b2_panel.web_security) ----------------------------------------
    @web.middleware
    async def _security(self, request: web.Request, handler):
        if not host_allowed(request.headers.get('Host'), self._hosts):
            return _error(421, 'unknown host name (allowed_hosts)')
        if request.method not in ('GET', 'HEAD') or request.path.startswith('/ws/'):
            if not same_origin(request.headers.get('Origin'), request.headers.get('Sec-Fetch-Site'), request.host):
                return _error(403, 'cross-site request refused')
        return await handler(request)

    @staticmethod
    async def _headers(request: web.Request, response: web.StreamResponse) -> None:
        """Every response, error pages (403/404/405/413) and files included, carries the security headers."""
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers['Server'] = SERVER_NAME

    def client(self, request: web.Request) -> str:
        """The client's address: the peer, or what a trusted proxy says it forwarded."""
        return client_address(request.remote, request.headers.get('X-Forwarded-For'), self._proxies)

    def _session(self, request: web.Request) -> Session | None:
        return self.auth.sessions.get(request.cookies.get(COOKIE))

    def _visitor_allowed(self, request: web.Request) -> bool:
        return in_networks(request.remote or '', self._visitor_nets)

    # --- pages and session -----------------------------------------------------------------------
    def _page(self, name: str, visitor: bool = False):
        async def handler(request: web.Request) -> web.StreamResponse:
            if visitor and not self._visitor_allowed(request):
                return _error(403, 'the visitor screen is only served to the robot itself')
            return web.FileResponse(WEB_DIR / name)
        return handler

    async def _session_info(self, request: web.Request) -> web.Response:
        s = self._session(request)
        if s is None:
            return web.json_response({'error': 'login required', 'demo': self.config.demo_mode,
                                      'setup_needed': len(self.auth.users) == 0,
                                      'setup_hint': self.config.setup_hint}, status=401)
        return web.json_response({'user': s.user, 'role': s.role, 'csrf': s.csrf, 'demo': self.config.demo_mode})

    async def _login(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            name, password = body['user'], body['password']
            if not isinstance(name, str) or not isinstance(password, str):
                raise TypeError
            name, password = name[:64], password[:256]
        except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: absurdly nested JSON
            return _error(400, 'expected JSON {"user": ..., "password": ...}')
        client = self.client(request)
        device = request.cookies.get(DEVICE_COOKIE)
        session, wait = await self._blocking(self.auth.login, name, password, client, device)
        if wait > 0:
            self.audit.record(name, 'login_throttled', client=client)
            return web.json_response({'error': 'too many attempts, try again later', 'retry_after_s': round(wait)},
                                     status=429, headers={'Retry-After': str(max(1, round(wait)))})
        if session is None:
            self.audit.record(name, 'login_failed', client=client)
            return _error(401, 'wrong user name or password')
        self.audit.record(session.user, 'login', role=session.role, client=client)
        response = web.json_response({'user': session.user, 'role': session.role, 'csrf': session.csrf})
        response.set_cookie(COOKIE, session.token, httponly=True, samesite='Strict', path='/',
                            secure=self.config.cookie_secure, max_age=int(self.auth.sessions.expiry_s))
        # This browser has logged in as this user: its right password is never throttled again.
        response.set_cookie(DEVICE_COOKIE, self.auth.devices.issue(session.user), httponly=True,
                            samesite='Strict', path='/api/login', secure=self.config.cookie_secure,
                            max_age=DEVICE_COOKIE_AGE_S)
        return response

    async def _logout(self, request: web.Request) -> web.Response:
        s = self._session(request)
        if s is None:
            return _error(401, 'login required')
        if not _csrf_ok(request, s):
            return _error(403, 'missing or wrong CSRF token')
        self.auth.sessions.end(s.token)
        self.audit.record(s.user, 'logout')
        response = web.json_response({'ok': True})
        response.del_cookie(COOKIE, path='/')
        return response

    async def _map(self, request: web.Request) -> web.Response:
        if self._session(request) is None:
            return _error(401, 'login required')
        floor = self.state.map_json()
        body = {'map': floor, 'waypoints': self.state.waypoints, 'targets': self.state.targets}
        response = web.json_response(body)
        response.enable_compression()
        return response

    def _staff_only(self, request: web.Request) -> web.Response | None:
        """The check of the staff-only reading routes: None if allowed, else the 401 or 403 to answer."""
        s = self._session(request)
        if s is None:
            return _error(401, 'login required')
        return None if s.is_staff else _error(403, 'staff only')

    async def _audit_recent(self, request: web.Request) -> web.Response:
        refused = self._staff_only(request)
        return refused if refused is not None else web.json_response({'entries': self.audit.recent(30)})

    # --- controls --------------------------------------------------------------------------------
    async def _control(self, request: web.Request) -> web.Response:
        s = self._session(request)
        if s is None:
            return _error(401, 'login required')
        name = request.match_info['name']
        control = CONTROLS.get(name)
        if control is None:
            return _error(404, f'no control "{name[:40]}"')
        # Anyone logged in who sees a danger may stop the robot; everything else (resume too) is staff only.
        if not s.is_staff and not control.observers:
            return _error(403, 'observers cannot control the robot')
        if not _csrf_ok(request, s):
            return _error(403, 'missing or wrong CSRF token')
        try:
            data = await request.json() if request.can_read_body else {}
        except (ValueError, RecursionError):
            return _error(400, 'expected a JSON object')
        body, reason = parse_body(control, data)
        if body is None:
            return _error(400, f'{name}: {reason}')
        if name == 'send' and body.target_id != self.config.home_waypoint and \
                body.target_id not in {t['id'] for t in self.state.targets}:
            return _error(400, f'unknown target "{body.target_id[:40]}"')
        if name == 'ack_alert' and body.id not in self.state.alert_ids():
            return _error(400, f'ack_alert: no alert "{body.id}" is shown')
        if control.at_once:
            result = await self._blocking(control.act(self.bridge, body, s.user))
        else:
            result = await self._blocking(control.act, self.bridge, body, s.user)
        action, details = control.audit(body, result)
        self.audit.record(s.user, action, **details)
        return web.json_response(result, status=200 if result.get('ok') else 503)

    # --- live streams ----------------------------------------------------------------------------
    async def _ws_staff(self, request: web.Request) -> web.StreamResponse:
        session = self._session(request)
        if session is None:
            return _error(401, 'login required')
        ws = web.WebSocketResponse(heartbeat=5.0, max_msg_size=4096)
        await ws.prepare(request)
        self._owner_ids += 1
        owner = self._owner_ids
        await ws.send_json({'type': 'hello', 'user': session.user, 'role': session.role, 'targets': self.state.targets,
                            'waypoints': self.state.waypoints, 'home': self.config.home_waypoint})
        sender = asyncio.create_task(self._push(ws, lambda now: self.state.staff_snapshot(now), session))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = _json(msg.data)
                if data.get('type') == 'joy':
                    if not session.is_staff or self.auth.sessions.get(session.token) is None:
                        await ws.send_json({'type': 'error', 'error': 'staff login required to drive'})
                        continue
                    if data.get('release'):
                        self.bridge.teleop_release(owner)
                    else:
                        self.bridge.teleop(owner, _unit(data.get('linear')), _unit(data.get('angular')))
        finally:
            self.bridge.teleop_release(owner)  # the page went away: stop driving now
            sender.cancel()
            self._sockets.discard(ws)
        return ws

    async def _ws_visitor(self, request: web.Request) -> web.StreamResponse:
        if not self._visitor_allowed(request):
            return _error(403, 'the visitor screen is only served to the robot itself')
        ws = web.WebSocketResponse(heartbeat=5.0, max_msg_size=4096)
        await ws.prepare(request)
        await ws.send_json({'type': 'hello', 'targets': self.state.targets})
        sender = asyncio.create_task(self._push(ws, lambda now: self.state.visitor_snapshot(now), None))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = _json(msg.data)
                action, value = str(data.get('action', '')), str(data.get('value', ''))[:MAX_TEXT]
                language = str(data.get('language', ''))
                if action not in VISITOR_ACTIONS or language not in (*VISITOR_LANGUAGES, ''):
                    await ws.send_json({'type': 'error', 'error': 'unknown visitor action'})
                    continue
                if (action in ('target', 'ticket', 'choice', 'language') and not _TOKEN.match(value)) or (
                        action == 'checkin' and not _BOOKING.match(value)):
                    await ws.send_json({'type': 'error', 'error': 'bad value'})
                    continue
                self.bridge.visitor_input(action, value, language)
        finally:
            sender.cancel()
            self._sockets.discard(ws)
        return ws

    async def _push(self, ws: web.WebSocketResponse, snapshot: Callable[[float], dict], session: Session | None):
        """Send a snapshot whenever the state changes, at most ``update_rate_hz``, and at least each second."""
        self._sockets.add(ws)
        period = 1.0 / self.config.update_rate_hz
        last_seq = -1
        loop = asyncio.get_running_loop()
        try:
            while not ws.closed:
                if session is not None and self.auth.sessions.get(session.token) is None:
                    await ws.close(code=4401, message=b'session expired')
                    return
                tick = self._tick
                if self.state.seq == last_seq:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(tick.wait(), timeout=1.0)
                started = loop.time()
                last_seq = self.state.seq
                await ws.send_json(snapshot(self.bridge.now()))
                await asyncio.sleep(max(0.0, period - (loop.time() - started)))
        except (ConnectionResetError, asyncio.CancelledError):
            pass


def _csrf_ok(request: web.Request, session: Session) -> bool:
    return hmac.compare_digest(request.headers.get(CSRF_HEADER, ''), session.csrf)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({'error': message}, status=status)


def _json(text: str) -> dict:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _unit(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if v != v else max(-1.0, min(1.0, v))

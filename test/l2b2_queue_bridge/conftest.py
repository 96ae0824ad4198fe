"""Fixtures of the queue bridge tests: the real embedded server on a free loopback port, and tiny
misbehaving HTTP servers for the fault tests."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import socket
import threading
import time

import pytest

from l2b2_queue_bridge.appointment_server import RunningServer, ServerSettings, create_app, prepare_database
from l2b2_queue_bridge.server_auth import UserAccount, password_hash
from l2b2_queue_bridge.server_db import AppointmentDb

STAFF_KEY = 'test-staff-key-0123'
#: Workstation users of the test server: the robot, one without the "appointment" permission, and one
#: whose workstation serves only the Meldestelle's scope (102).
ROBOT = ('l2b2-robot', 'robot-password-1')
NO_RIGHTS = ('viewer', 'viewer-password-1')
MELDESTELLE_ONLY = ('melde', 'melde-password-1')
STATUS_TOKEN = 'status-token-0123'


class Clock:
    """The server's wall clock, movable forward (session expiry without waiting)."""

    def __init__(self):
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class EmbeddedServer:
    url: str
    db: AppointmentDb
    settings: ServerSettings
    running: RunningServer
    clock: Clock


def server_settings(**overrides) -> ServerSettings:
    users = (UserAccount(ROBOT[0], password_hash(ROBOT[1]), frozenset({'appointment'})),
             UserAccount(NO_RIGHTS[0], password_hash(NO_RIGHTS[1]), frozenset({'basic'})),
             UserAccount(MELDESTELLE_ONLY[0], password_hash(MELDESTELLE_ONLY[1]), frozenset({'appointment'}),
                         frozenset({102})))
    values = {'staff_auth_keys': (STAFF_KEY,), 'max_body_bytes': 4096, 'users': users,
              'status_token': STATUS_TOKEN, 'rate_limit_per_minute': 0, **overrides}
    return ServerSettings(**values)


def start_embedded(tmp_path, **overrides) -> EmbeddedServer:
    settings = server_settings(**overrides)
    db = prepare_database(settings, tmp_path / 'appointments.sqlite3')
    clock = Clock()
    running = RunningServer(create_app(db, settings, clock=clock))
    return EmbeddedServer(running.url, db, settings, running, clock)


@pytest.fixture
def embedded_server(tmp_path) -> Iterator[EmbeddedServer]:
    server = start_embedded(tmp_path)
    try:
        yield server
    finally:
        server.running.stop()
        server.db.close()


@dataclass
class FakeServer:
    url: str
    requests: list[str]


@pytest.fixture
def fake_server() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler, threading.Event], None]], FakeServer]]:
    """Start a real tiny HTTP server whose every GET/POST is answered by ``behave(handler, stop_event)``."""
    servers: list[ThreadingHTTPServer] = []
    stop = threading.Event()

    def start(behave) -> FakeServer:
        seen: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                seen.append(self.path)
                behave(self, stop)

            do_POST = do_GET

            def log_message(self, *_args):
                pass

        server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True).start()
        servers.append(server)
        return FakeServer(f'http://127.0.0.1:{server.server_address[1]}/', seen)

    yield start
    stop.set()
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return f'http://127.0.0.1:{port}/'

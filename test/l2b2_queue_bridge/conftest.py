"""Fixtures of the queue bridge tests: the real embedded server on a free loopback port, and tiny
misbehaving HTTP servers for the fault tests."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import socket
import threading

import pytest

from l2b2_queue_bridge.appointment_server import RunningServer, ServerSettings, create_app, prepare_database
from l2b2_queue_bridge.server_db import AppointmentDb

STAFF_KEY = 'test-staff-key-0123'


@dataclass
class EmbeddedServer:
    url: str
    db: AppointmentDb
    settings: ServerSettings
    running: RunningServer


@pytest.fixture
def embedded_server(tmp_path) -> Iterator[EmbeddedServer]:
    settings = ServerSettings(staff_auth_keys=(STAFF_KEY,), max_body_bytes=4096)
    db = prepare_database(settings, tmp_path / 'appointments.sqlite3')
    running = RunningServer(create_app(db, settings))
    try:
        yield EmbeddedServer(running.url, db, settings, running)
    finally:
        running.stop()
        db.close()


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

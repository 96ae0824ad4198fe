"""``l2b2-bench queue``: latency of a look-up through the ROS service, ticket throughput under concurrency,
and how fast the bridge answers when the appointment system is down or hangs. Loopback only, bounded.

Starts the embedded appointment server (temporary database) as its own process, a queue bridge node and a
client node in a private rclpy context, and measures. ``--quick`` uses tiny sizes (smoke test).
"""
from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import httpx

from l2b2_common.bench import BenchResult, percentile
from l2b2_queue_bridge.server_db import AppointmentDb

STAFF_KEY = 'bench-staff-key-01'
ROBOT_LOGIN, ROBOT_PASSWORD = 'l2b2-robot', 'bench-robot-password-01'
#: Sessions of the renewal run: the server ends them after SESSION_S, the bridge renews RENEW_S before.
SESSION_S, RENEW_S = 3.0, 1.0


def _ms(values: list[float], q: float) -> float:
    return round(percentile(values, q) * 1000.0, 2)


def _http_load(url: str, path: str, total: int, clients: int,
               headers: dict | None = None) -> tuple[list[float], float, list]:
    """``total`` GETs of ``path`` from ``clients`` concurrent clients: (latencies, seconds, bodies)."""
    per_client = max(1, total // clients)

    def worker(_i: int) -> list[tuple[float, dict]]:
        out = []
        with httpx.Client(base_url=url, timeout=10.0, headers=headers or {}) as http:
            for _ in range(per_client):
                t0 = time.perf_counter()
                response = http.get(path)
                if response.status_code != 200:  # a fast error is no throughput
                    raise RuntimeError(f'GET {path}: HTTP {response.status_code}')
                out.append((time.perf_counter() - t0, response.json()))
        return out

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = [r for batch in pool.map(worker, range(clients)) for r in batch]
    return [r[0] for r in results], time.perf_counter() - started, [r[1] for r in results]


class _Hang(BaseHTTPRequestHandler):
    stop = threading.Event()

    def do_GET(self):
        self.stop.wait(10.0)

    def log_message(self, *_args):
        pass


def run(argv: list[str]) -> BenchResult:
    parser = argparse.ArgumentParser(prog='l2b2-bench queue')
    parser.add_argument('--lookups', type=int, default=300, help='sequential look-ups through the ROS service')
    parser.add_argument('--tickets', type=int, default=200, help='tickets drawn in the concurrency run')
    parser.add_argument('--clients', type=int, default=20, help='concurrent HTTP / ROS clients')
    parser.add_argument('--session-run-s', type=float, default=10.0,
                        help='seconds of name look-ups with short sessions (renewals)')
    parser.add_argument('--quick', action='store_true', help='tiny sizes (smoke test)')
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.lookups, opts.tickets, opts.clients, opts.session_run_s = 10, 20, 4, 4.0
    os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')

    with tempfile.TemporaryDirectory(prefix='l2b2-bench-queue-') as tmp:
        db_path = Path(tmp) / 'appointments.sqlite3'
        # The server runs in its own process, as deployed: the measuring clients do not share its GIL.
        server, url = _start_server(db_path, Path(tmp))
        db = AppointmentDb(db_path)
        try:
            figures, rows = _measure(url, db, opts, Path(tmp))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            db.close()
    return BenchResult(title='queue bridge (embedded ZMS server, loopback)', figures=figures, rows=rows,
                       notes=['lookup_*: LookupAppointment through ROS + HTTP + SQLite, one at a time',
                              'bridge_lookups_per_s counts right answers only (bridge_lookup_errors must be 0)',
                              f'login_ms: median workstation login; renewals / renewal_failures over a run '
                              f'with {SESSION_S:g} s sessions (name look-ups every 50 ms; 0 failures expected)',
                              'down_answer_ms: first answer with nothing listening; down_open_answer_ms: circuit open',
                              'slow_answer_ms: a system that never answers, timeout_s 0.5, no retry'])


def _start_server(db_path: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    """The embedded server with the robot's workstation user, short sessions and no rate limit."""
    port = _free_port()
    config = tmp / 'appointment_server.yaml'
    config.write_text(f'appointment_server:\n  session_duration_s: {SESSION_S}\n  rate_limit_per_minute: 0\n'
                      f'  users: [{{login: {ROBOT_LOGIN}, password_env: L2B2_ZMS_PASSWORD}}]\n', encoding='utf-8')
    env = {**os.environ, 'L2B2_ZMS_STAFF_KEY': STAFF_KEY, 'L2B2_ZMS_PASSWORD': ROBOT_PASSWORD}
    proc = subprocess.Popen([sys.executable, '-m', 'l2b2_queue_bridge.appointment_server', '--port', str(port),
                             '--db', str(db_path), '--config', str(config)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}/'
    deadline = time.monotonic() + 30.0
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f'appointment server exited with {proc.returncode}')
        try:
            if httpx.get(url + 'status/', timeout=1.0, headers={'X-Authkey': STAFF_KEY}).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError('appointment server did not start')
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _measure(url: str, db, opts, tmp: Path) -> tuple[dict, list]:
    rows = []
    _http_load(url, '/status/', opts.clients * 5, opts.clients, {'X-Authkey': STAFF_KEY})  # warm-up
    # 1. The server alone: reads and ticket draws from concurrent HTTP clients.
    lat, secs, _ = _http_load(url, '/process/4711/demo/', opts.tickets, opts.clients)
    rows.append({'what': 'server GET process', 'requests': len(lat), 'clients': opts.clients,
                 'req_per_s': round(len(lat) / secs, 1), 'p50_ms': _ms(lat, 50), 'p99_ms': _ms(lat, 99)})
    lat, secs, bodies = _http_load(url, '/scope/104/waitingnumber/a1b2c3d4e5f60104/', opts.tickets, opts.clients)
    numbers = sorted(b['data']['queue']['number'] for b in bodies)
    tickets_per_s = round(len(numbers) / secs, 1)
    unique = numbers == list(range(1, len(numbers) + 1)) and db.ticket_numbers(104) == numbers
    rows.append({'what': 'server draw ticket', 'requests': len(lat), 'clients': opts.clients,
                 'req_per_s': tickets_per_s, 'p50_ms': _ms(lat, 50), 'p99_ms': _ms(lat, 99)})
    figures = _ros_figures(url, opts, rows, tmp)
    return {'lookup_p50_ms': figures['lookup_p50_ms'], 'lookup_p99_ms': figures['lookup_p99_ms'],
            'tickets_per_s': tickets_per_s, 'tickets_unique': unique,
            'down_answer_ms': figures['down_answer_ms'], 'down_open_answer_ms': figures['down_open_answer_ms'],
            'slow_answer_ms': figures['slow_answer_ms'],
            'bridge_lookups_per_s': figures['bridge_lookups_per_s'],
            'bridge_lookup_p99_ms': figures['bridge_lookup_p99_ms'],
            'server_requests_per_s': rows[0]['req_per_s'], 'server_p99_ms': rows[0]['p99_ms'],
            'bridge_lookup_errors': figures['bridge_lookup_errors'], 'login_ms': figures['login_ms'],
            'renewals': figures['renewals'], 'renewal_failures': figures['renewal_failures'],
            'session_lookups_failed': figures['session_lookups_failed']}, rows


def _ros_figures(url: str, opts, rows: list, tmp: Path) -> dict:
    """Three bridges (system up, down, hanging), each with its services remapped to a name of its own."""
    from l2b2_interfaces.srv import LookupAppointment
    import rclpy
    from rclpy.executors import MultiThreadedExecutor
    from rclpy.parameter import Parameter
    from rclpy.qos import QoSProfile

    from l2b2_common.lean_node import LeanNode
    from l2b2_common.ros_harness import destroy_node
    from l2b2_queue_bridge.queue_bridge_node import QueueBridgeNode

    context = rclpy.Context()
    rclpy.init(context=context)
    executor = MultiThreadedExecutor(num_threads=4, context=context)
    nodes = []
    hang = ThreadingHTTPServer(('127.0.0.1', 0), _Hang)
    hang.daemon_threads = True
    threading.Thread(target=hang.serve_forever, daemon=True).start()
    qos = QoSProfile(depth=1000)
    password_file = tmp / 'robot-password'
    password_file.write_text(ROBOT_PASSWORD, encoding='utf-8')

    def bridge(name: str, base_url: str, **params) -> str:
        values = {'base_url': base_url, 'staff_auth_key': STAFF_KEY, 'enforce_opening_hours': False,
                  'probe_period_s': 0.0, **params}
        service = f'/bench_{name}/lookup_appointment'
        node = QueueBridgeNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in values.items()],
                               cli_args=['--ros-args', '-r', f'__node:=queue_bridge_{name}',
                                         '-r', f'/queue/lookup_appointment:={service}'])
        executor.add_node(node)
        nodes.append(node)
        return service

    def call(cli, request, timeout=30.0):
        t0 = time.perf_counter()
        future = cli.call_async(request)
        _wait(future.done, timeout)
        return future.result(), time.perf_counter() - t0

    try:
        names = {'ok': bridge('ok', url),
                 'down': bridge('down', _closed_port_url(), read_retries=0, breaker_failures=1,
                                breaker_reset_s=600.0),
                 'slow': bridge('slow', f'http://127.0.0.1:{hang.server_address[1]}/', timeout_s=0.5,
                                read_retries=0)}
        client = LeanNode('queue_bench_client', context=context)
        executor.add_node(client)
        nodes.append(client)
        threading.Thread(target=executor.spin, daemon=True).start()
        clients = {k: client.create_client(LookupAppointment, v, qos_profile=qos) for k, v in names.items()}
        _wait(lambda: all(c.service_is_ready() for c in clients.values()), 30.0)
        request = LookupAppointment.Request(booking_number='4711', auth_key='demo')
        call(clients['ok'], request)  # warm-up: discovery, connection pool
        lat = []
        for _ in range(opts.lookups):
            answer, secs = call(clients['ok'], request)
            if answer.result != LookupAppointment.Response.OK:
                raise RuntimeError(f'look-up failed: {answer.message}')
            lat.append(secs)
        rows.append({'what': 'ROS lookup (sequential)', 'requests': len(lat), 'clients': 1,
                     'req_per_s': round(len(lat) / sum(lat), 1), 'p50_ms': _ms(lat, 50), 'p99_ms': _ms(lat, 99)})
        # concurrent: opts.clients requests in flight at any time
        started, pending, clat, errors = time.perf_counter(), [], [], 0
        remaining = opts.lookups
        while remaining or pending:
            while remaining and len(pending) < opts.clients:
                pending.append((time.perf_counter(), clients['ok'].call_async(request)))
                remaining -= 1
            _wait(lambda waiting=pending: any(f.done() for _t, f in waiting), 30.0, poll=0.0005)
            now = time.perf_counter()
            for t0, f in pending:
                if f.done():  # only right answers count: a fast error is no throughput
                    if f.result().result == LookupAppointment.Response.OK:
                        clat.append(now - t0)
                    else:
                        errors += 1
            pending = [(t0, f) for t0, f in pending if not f.done()]
        total = time.perf_counter() - started
        if errors:
            raise RuntimeError(f'{errors} of {opts.lookups} concurrent look-ups failed')
        rows.append({'what': f'ROS lookup ({opts.clients} in flight)', 'requests': len(clat),
                     'clients': opts.clients, 'req_per_s': round(len(clat) / total, 1),
                     'p50_ms': _ms(clat, 50), 'p99_ms': _ms(clat, 99)})
        out = {'lookup_p50_ms': _ms(lat, 50), 'lookup_p99_ms': _ms(lat, 99), 'bridge_lookup_errors': errors,
               'bridge_lookups_per_s': round(len(clat) / total, 1), 'bridge_lookup_p99_ms': _ms(clat, 99)}
        # The session bridge joins the executor only now: one more node in it during the concurrent run
        # (its services, parameters, health) made every wake-up walk longer and cost a quarter of the
        # look-ups per second there, which the figure is not about.
        names['session'] = bridge('session', url, login_name=ROBOT_LOGIN, password_file=str(password_file),
                                  staff_auth_key='', session_duration_s=SESSION_S, renew_before_s=RENEW_S)
        clients['session'] = client.create_client(LookupAppointment, names['session'], qos_profile=qos)
        _wait(clients['session'].service_is_ready, 30.0)
        out.update(_session_run(clients['session'], call, opts, rows,
                                next(n for n in nodes if getattr(n, 'get_name', lambda: '')() ==
                                     'queue_bridge_session')))
        answer, secs = call(clients['down'], request)
        out['down_answer_ms'] = round(secs * 1000.0, 1)
        answer, secs = call(clients['down'], request)
        if 'circuit open' not in answer.message:
            raise RuntimeError(f'expected an open circuit: {answer.message}')
        out['down_open_answer_ms'] = round(secs * 1000.0, 1)
        answer, secs = call(clients['slow'], request)
        if answer.result != LookupAppointment.Response.UNAVAILABLE:
            raise RuntimeError(f'expected UNAVAILABLE from a hanging system: {answer.message}')
        out['slow_answer_ms'] = round(secs * 1000.0, 1)
        return out
    finally:
        _Hang.stop.set()
        hang.shutdown()
        hang.server_close()
        for node in nodes:
            close = getattr(node, 'close', None)
            if callable(close):
                close()
        executor.shutdown(timeout_sec=2.0)
        for node in nodes:
            destroy_node(node)
        rclpy.shutdown(context=context)


def _session_run(client, call, opts, rows: list, node) -> dict:
    """Name look-ups (staff calls with the session) for ``session_run_s`` while the server ends each
    session after SESSION_S: the bridge must renew in time, so no look-up fails."""
    from l2b2_interfaces.srv import LookupAppointment

    request = LookupAppointment.Request(booking_number='4712', name='Yilmaz')
    failed, lat = 0, []
    end = time.monotonic() + opts.session_run_s
    while time.monotonic() < end:
        answer, secs = call(client, request)
        lat.append(secs)
        failed += answer.result != LookupAppointment.Response.OK
        time.sleep(0.05)
    session = node.client.adapter.session
    logins = [s * 1000.0 for s in session.login_seconds]
    rows.append({'what': f'ROS name lookup, {SESSION_S:g} s sessions', 'requests': len(lat), 'clients': 1,
                 'req_per_s': round(len(lat) / sum(lat), 1), 'p50_ms': _ms(lat, 50), 'p99_ms': _ms(lat, 99)})
    return {'login_ms': round(sorted(logins)[len(logins) // 2], 2) if logins else None,
            'renewals': session.renewals, 'renewal_failures': session.renewal_failures,
            'session_lookups_failed': failed}


def _wait(predicate, timeout: float, poll: float = 0.002) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError('benchmark step did not finish in time')
        time.sleep(poll)


def _closed_port_url() -> str:
    return f'http://127.0.0.1:{_free_port()}/'

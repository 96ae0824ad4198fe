"""``l2b2-appointment-server``: a small appointment system speaking the ZMS/eAppointment API subset the robot uses.

The default when a site has no city system to connect to (and for simulation and tests): real HTTP
(FastAPI + uvicorn), data in SQLite (WAL), seeded with demo bookings relative to its start. Access
logs are off: URLs carry booking numbers and auth keys. Routes (responses ``{"meta": ..., "data": ...}``):

- ``GET  /status/``                              liveness and counts
- ``GET  /process/{id}/{authKey}/``              a booking (403 wrong authKey, 404 unknown)
- ``GET  /process/{id}/``                        the same for staff (``X-Authkey``)
- ``POST /process/status/queued/``               staff: check-in, the booking enters the queue
- ``GET  /scope/{id}/waitingnumber/{hash}/``     draw a waiting number (``X-Idempotency-Key`` honoured)
- ``GET  /scope/{id}/queue/``                    the scope's queue, with a ``fake`` newcomer entry
- ``POST /calldisplay/queue/``                   queue of the scopes of a call display
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import datetime
import hmac
import json
import logging
import math
import os
from pathlib import Path
import signal
import sys
import threading
import time
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
import uvicorn

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError, Section, config_path, load_yaml
from l2b2_queue_bridge import seed
from l2b2_queue_bridge.server_db import AppointmentDb, DbError, ProcessRow, ScopeRow

LOG = logging.getLogger('l2b2.appointment_server')
SERVER_NAME = 'l2b2-appointment-server'
DEFAULT_CONFIG = 'appointment_server.yaml'
#: Largest process or scope id accepted (ZMS ids are far smaller; SQLite holds up to 2**63 - 1).
MAX_ID = 99_999_999_999
ProcessId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
ScopeId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


@dataclass
class ServerSettings:
    host: str = '127.0.0.1'
    port: int = 8090
    db: str = ''
    catalog: str = 'departments.yaml'
    staff_auth_keys: tuple[str, ...] = ()
    max_body_bytes: int = 64 * 1024
    scope_defaults: dict[str, int] = field(default_factory=lambda: {
        'first_number': 1, 'last_number': 999, 'processing_minutes': 10, 'workstations': 2})
    seed_random: int = 4711
    seed_slot_minutes: int = 20
    demo_stale_after_minutes: int = 60


def default_db_path() -> Path:
    """Never inside the repository: $L2B2_STATE_DIR or ~/.local/state/l2b2."""
    state = os.environ.get('L2B2_STATE_DIR') or os.path.join(
        os.environ.get('XDG_STATE_HOME') or os.path.expanduser('~/.local/state'), 'l2b2')
    return Path(state) / 'appointments.sqlite3'


def load_settings(name: str) -> ServerSettings:
    """Read ``appointment_server:`` from a YAML file under config/ (or an absolute path)."""
    path = config_path(name)
    root = Section(path, '', load_yaml(path))
    root.unknown_keys({'appointment_server'})
    s = root.section('appointment_server')
    s.unknown_keys({'host', 'port', 'db', 'catalog', 'staff_auth_keys', 'max_body_bytes', 'scope_defaults',
                    'seed_random', 'seed_slot_minutes', 'demo_stale_after_minutes'})
    keys = s.list('staff_auth_keys', [])
    if not all(isinstance(k, str) and len(k) >= 8 for k in keys):
        raise s.error('staff_auth_keys', 'must be a list of texts of at least 8 characters')
    env_key = os.environ.get('L2B2_ZMS_STAFF_KEY', '')
    d = s.section('scope_defaults', {})
    d.unknown_keys({'first_number', 'last_number', 'processing_minutes', 'workstations'})
    defaults = {'first_number': d.int('first_number', 1, min=1, max=99999),
                'last_number': d.int('last_number', 999, min=1, max=99999),
                'processing_minutes': d.int('processing_minutes', 10, min=1, max=240),
                'workstations': d.int('workstations', 2, min=1, max=100)}
    if defaults['last_number'] < defaults['first_number']:
        raise d.error('last_number', 'must not be below first_number')
    return ServerSettings(
        host=s.str('host', '127.0.0.1'), port=s.int('port', 8090, min=0, max=65535), db=s.str('db', ''),
        catalog=s.str('catalog', 'departments.yaml'),
        staff_auth_keys=tuple(keys) + ((env_key,) if env_key else ()),
        max_body_bytes=s.int('max_body_bytes', 64 * 1024, min=256, max=16 * 1024 * 1024),
        scope_defaults=defaults, seed_random=s.int('seed_random', 4711),
        seed_slot_minutes=s.int('seed_slot_minutes', 20, min=5, max=120),
        demo_stale_after_minutes=s.int('demo_stale_after_minutes', 60, min=1, max=24 * 60))


# -- ZMS entities -----------------------------------------------------------------------------------


def _scope_entity(scope: ScopeRow) -> dict[str, Any]:
    return {'id': scope.id, 'shortName': scope.short_name,
            'provider': {'id': scope.id, 'name': scope.short_name, 'source': 'l2b2'},
            'preferences': {'queue': {'firstNumber': scope.first_number, 'lastNumber': scope.last_number,
                                      'processingTimeAverage': scope.processing_minutes}}}


def _queue_entity(p: ProcessRow, now: int, estimate: int | None = None, optimistic: int | None = None) -> dict:
    arrival = p.arrival_ts if p.arrival_ts is not None else (p.appointment_ts or now)
    return {'arrivalTime': arrival, 'number': p.queue_number, 'displayNumber': p.display_number,
            'status': p.status, 'withAppointment': p.with_appointment,
            'waitingTime': max(0, (now - p.arrival_ts) // 60) if p.arrival_ts is not None else None,
            'waitingTimeEstimate': estimate or 0, 'waitingTimeOptimistic': optimistic or 0,
            'callCount': 0, 'callTime': 0, 'lastCallTime': 0, 'destination': None, 'destinationHint': None}


def process_entity(p: ProcessRow, scope: ScopeRow, now: int) -> dict[str, Any]:
    appointments = []
    if p.appointment_ts is not None:
        appointments.append({'date': p.appointment_ts, 'scope': {'id': scope.id}, 'slotCount': 1})
    return {
        'id': p.id, 'authKey': p.auth_key or None, 'status': p.status, 'displayNumber': p.display_number,
        'createTimestamp': p.created_ts, 'lastChange': p.last_change_ts,
        'appointments': appointments, 'scope': _scope_entity(scope),
        'requests': [{'id': rid, 'name': name, 'source': 'l2b2'} for rid, name in p.services],
        'clients': [{'familyName': p.client_name, 'email': '', 'telephone': ''}] if p.client_name else [],
        'queue': _queue_entity(p, now),
    }


def queue_list(db: AppointmentDb, scope: ScopeRow, now: int) -> list[dict[str, Any]]:
    """The scope's queue; waiting entries get an estimate; a final ``fake`` entry stands for a newcomer."""
    per_person = scope.processing_minutes / scope.workstations
    out, ahead = [], 0
    for p in db.queue(scope.id, now):
        if p.status == 'queued':
            out.append(_queue_entity(p, now, math.ceil(ahead * per_person), math.floor(ahead * per_person * 0.7)))
            ahead += 1
        else:
            out.append(_queue_entity(p, now))
    out.append({'arrivalTime': now, 'number': 0, 'displayNumber': '', 'status': 'fake', 'withAppointment': False,
                'waitingTime': 0, 'waitingTimeEstimate': math.ceil(ahead * per_person),
                'waitingTimeOptimistic': math.floor(ahead * per_person * 0.7)})
    return out


# -- the application --------------------------------------------------------------------------------


def _meta(status: int, **extra: Any) -> dict[str, Any]:
    return {'error': status >= 400, 'generated': datetime.now().astimezone().isoformat(timespec='seconds'),
            'server': SERVER_NAME, 'status': str(status), **extra}


def _ok(data: Any) -> JSONResponse:
    extra = {'length': len(data)} if isinstance(data, list) else {}
    return JSONResponse({'meta': _meta(200, **extra), 'data': data})


def _error(status: int, message: str, exception: str = '') -> JSONResponse:
    meta = _meta(status, message=message)
    if exception:
        meta['exception'] = exception
    return JSONResponse({'meta': meta, 'data': None}, status_code=status)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def create_app(db: AppointmentDb, settings: ServerSettings) -> FastAPI:
    app = FastAPI(title='l2b2 appointment server (ZMS subset)', docs_url=None, redoc_url=None, openapi_url=None)
    staff_keys = tuple(k.encode() for k in settings.staff_auth_keys)

    def now_ts() -> int:
        return int(time.time())

    def require_staff(key: str | None) -> None:
        if not key or not any(hmac.compare_digest(key.encode(), k) for k in staff_keys):
            raise DbError(401, 'valid X-Authkey header required', 'UseraccountMissingLogin')

    def scope_or_404(scope_id: int) -> ScopeRow:
        scope = db.scope(scope_id)
        if scope is None:
            raise DbError(404, 'scope not found', 'ScopeNotFound')
        return scope

    async def json_body(request: Request) -> Any:
        """Read at most max_body_bytes (also for chunked bodies), then parse."""
        declared = request.headers.get('content-length')
        if declared is not None and (not declared.isdigit() or int(declared) > settings.max_body_bytes):
            raise _BadRequest(413, f'body larger than {settings.max_body_bytes} bytes')
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise _BadRequest(413, f'body larger than {settings.max_body_bytes} bytes')
            chunks.append(chunk)
        try:
            return json.loads(b''.join(chunks).decode('utf-8'))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _BadRequest(400, f'malformed JSON body: {exc.__class__.__name__}') from None
        except ValueError:  # a number of thousands of digits
            raise _BadRequest(400, 'malformed JSON body: a number is too long') from None
        except RecursionError:  # thousands of nested brackets
            raise _BadRequest(400, 'malformed JSON body: nested too deeply') from None

    @app.exception_handler(DbError)
    async def _db_error(_request: Request, exc: DbError) -> JSONResponse:
        return _error(exc.status, exc.message, exc.exception)

    @app.exception_handler(_BadRequest)
    async def _bad_request(_request: Request, exc: _BadRequest) -> JSONResponse:
        return _error(exc.status, exc.message, 'BadRequest')

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = '.'.join(str(x) for x in first.get('loc', ()))
        return _error(400, f'invalid {where}: {first.get("msg", "bad value")}', 'InvalidInput')

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), 'RouteNotFound' if exc.status_code == 404 else 'HttpError')

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        LOG.error('unexpected %s', type(exc).__name__)
        return _error(500, 'internal error', type(exc).__name__)

    @app.get('/status/')
    def status() -> JSONResponse:
        return _ok({'server': SERVER_NAME, 'generated': now_ts(), 'processes': {'count': db.count_processes()},
                    'scopes': [s.id for s in db.scopes()]})

    @app.get('/process/{process_id}/{auth_key}/')
    def process_by_auth_key(process_id: ProcessId, auth_key: str) -> JSONResponse:
        p = db.process(process_id)
        if p is None:
            raise DbError(404, 'process not found', 'ProcessNotFound')
        if not p.auth_key or not hmac.compare_digest(auth_key.encode(), p.auth_key.encode()):
            raise DbError(403, 'authKey does not match', 'ProcessAuthFailed')
        return _ok(process_entity(p, scope_or_404(p.scope_id), now_ts()))

    @app.get('/process/{process_id}/')
    def process_for_staff(process_id: ProcessId,
                          x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        require_staff(x_authkey)
        p = db.process(process_id)
        if p is None:
            raise DbError(404, 'process not found', 'ProcessNotFound')
        return _ok(process_entity(p, scope_or_404(p.scope_id), now_ts()))

    @app.post('/process/status/queued/')
    async def process_queued(request: Request, x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        require_staff(x_authkey)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise _BadRequest(400, 'body must be a process object')
        pid = body.get('id')
        if isinstance(pid, str) and pid.isdigit() and len(pid) <= len(str(MAX_ID)):
            pid = int(pid)
        if not isinstance(pid, int) or isinstance(pid, bool) or not 1 <= pid <= MAX_ID:
            raise _BadRequest(400, 'process id must be a positive number')
        auth_key = body.get('authKey')
        if auth_key is not None and not isinstance(auth_key, str):
            raise _BadRequest(400, 'authKey must be a string')
        p = await run_in_threadpool(db.set_queued, pid, auth_key, now_ts())
        return _ok(process_entity(p, scope_or_404(p.scope_id), now_ts()))

    @app.get('/scope/{scope_id}/waitingnumber/{printer_hash}/')
    def waiting_number(scope_id: ScopeId, printer_hash: str,
                       x_idempotency_key: Annotated[str | None, Header(max_length=200)] = None) -> JSONResponse:
        scope = scope_or_404(scope_id)
        p = db.draw_ticket(scope_id, printer_hash, datetime.now().astimezone(), x_idempotency_key or '')
        return _ok(process_entity(p, scope, now_ts()))

    @app.get('/scope/{scope_id}/queue/')
    def scope_queue(scope_id: ScopeId) -> JSONResponse:
        return _ok(queue_list(db, scope_or_404(scope_id), now_ts()))

    @app.post('/calldisplay/queue/')
    async def calldisplay_queue(request: Request) -> JSONResponse:
        body = await json_body(request)
        scopes = body.get('scopes') if isinstance(body, dict) else None
        if not isinstance(scopes, list) or not all(isinstance(s, dict) and isinstance(s.get('id'), int)
                                                   and not isinstance(s.get('id'), bool)
                                                   and 1 <= s['id'] <= MAX_ID for s in scopes):
            raise _BadRequest(400, 'body must be a calldisplay with scopes: [{"id": <number>}, ...]')
        if len(scopes) > 100:
            raise _BadRequest(400, 'at most 100 scopes')
        now = now_ts()

        def collect() -> list[dict]:
            out = []
            for s in scopes:
                out.extend(e for e in queue_list(db, scope_or_404(s['id']), now) if e['status'] != 'fake')
            return sorted(out, key=lambda e: e['arrivalTime'])
        return _ok(await run_in_threadpool(collect))

    return app


def prepare_database(settings: ServerSettings, db_path: str | Path, start: datetime | None = None) -> AppointmentDb:
    """Open (or create) the database, load scopes from the catalog, seed once and refresh the demo bookings."""
    start = start or datetime.now().astimezone()
    catalog = load_catalog(config_path(settings.catalog))
    db = AppointmentDb(db_path)
    rows = seed.scope_rows(catalog, settings.scope_defaults)
    for row in rows:
        db.upsert_scope(row)
    services, requests = {}, {}
    for target in catalog.targets.values():
        if target.scope_id is not None and target.printer_hash:
            pairs = tuple((str(s.zms_request_id or s.id), s.name['de']) for s in target.services)
            services[target.scope_id] = pairs or ((target.id, target.display_name('de')),)
            requests.update({s.id: (str(s.zms_request_id or s.id), s.name['de']) for s in target.services})
    seed.seed_day(db, services, start, rng_seed=settings.seed_random, slot_minutes=settings.seed_slot_minutes)
    seed.refresh_demo_bookings(db, {t.id: t.scope_id for t in catalog.targets.values()
                                    if t.scope_id is not None and t.printer_hash}, start,
                               settings.demo_stale_after_minutes, requests)
    return db


class RunningServer:
    """A server in a background thread (tests, benchmarks); ``port=0`` picks a free port."""

    def __init__(self, app: Any, host: str = '127.0.0.1', port: int = 0):
        config = uvicorn.Config(app, host=host, port=port, log_level='warning', access_log=False,
                                lifespan='off', timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name='appointment-server', daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20.0
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError('appointment server did not start')
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f'http://{host}:{self.port}/'

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10.0)


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-appointment-server', description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=DEFAULT_CONFIG, help='YAML file under config/ or an absolute path')
    parser.add_argument('--host', help='listen address (default from the config, 127.0.0.1)')
    parser.add_argument('--port', type=int, help='listen port (default from the config, 8090)')
    parser.add_argument('--db', help='SQLite file (default $L2B2_STATE_DIR or ~/.local/state/l2b2)')
    opts = parser.parse_args(args)
    logging.basicConfig(level=logging.INFO, format='[appointment_server] %(levelname)s %(message)s')
    try:
        settings = load_settings(opts.config)
    except ConfigError as exc:
        print(f'[l2b2] configuration error: {exc}', file=sys.stderr, flush=True)
        return 78
    host = opts.host or settings.host
    port = settings.port if opts.port is None else opts.port
    db_path = Path(opts.db or settings.db or default_db_path()).expanduser()
    try:
        db = prepare_database(settings, db_path)
    except ConfigError as exc:
        print(f'[l2b2] configuration error: {exc}', file=sys.stderr, flush=True)
        return 78
    LOG.info('database %s, %d scopes; listening on http://%s:%d/', db_path, len(db.scopes()), host, port)
    # uvicorn handles SIGINT/SIGTERM: stops accepting, finishes requests in flight, then returns and
    # re-raises the signal to the previous handler, which here only lets main() close the database.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_args: None)
    server = uvicorn.Server(uvicorn.Config(create_app(db, settings), host=host, port=port, log_level='warning',
                                           access_log=False, lifespan='off', timeout_graceful_shutdown=5))
    try:
        server.run()
    finally:
        db.close()
        LOG.info('stopped')
    return 0 if server.started else 1


if __name__ == '__main__':
    sys.exit(main())

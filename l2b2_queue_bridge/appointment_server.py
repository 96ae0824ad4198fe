"""``l2b2-appointment-server``: a small appointment system speaking the ZMS/eAppointment API subset the robot uses.

The default when a site has no city system to connect to (and for simulation and tests): real HTTP
(FastAPI + uvicorn), data in SQLite (WAL), seeded with demo bookings relative to its start. Access
logs are off: URLs carry booking numbers and auth keys. It answers like upstream (it-at-m/eappointment,
``zmsbackend``), errors included (status, ``meta.exception`` class name, ``data``). Routes:

- ``POST   /workstation/login/``                  staff login -> workstation with ``authkey`` (session)
- ``DELETE /workstation/login/{login}/``          logout
- ``GET    /workstation/``                        the session's workstation
- ``GET    /status/``                             a session or ``X-Token`` required (401 otherwise)
- ``GET    /process/{id}/{authKey}/``             a booking (403 wrong authKey, 404 unknown)
- ``GET    /process/{id}/``                       staff: a booking (403 ProcessNotCallable, scope check)
- ``POST   /process/status/queued/``              staff (``appointment``): the process becomes queued
- ``GET    /scope/{id}/waitingnumber/{hash}/``    draw a waiting number (``?requestId=``)
- ``GET    /scope/{id}/queue/``                   the scope's queue, with a ``fake`` newcomer entry
- ``POST   /calldisplay/queue/``                  queue of the scopes of a call display

Queue lists for callers without a session carry no booking numbers (``meta.reducedData``). Routes
that change data are rate-limited per client address.
"""
from __future__ import annotations

import argparse
from datetime import datetime
import hmac
import json
import logging
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
from pydantic import Field
from starlette.exceptions import HTTPException as StarletteHTTPException
import uvicorn

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError, config_path
from l2b2_queue_bridge import seed
from l2b2_queue_bridge.server_auth import (
    STATUS_AUTH_FAILED,
    RateLimit,
    Sessions,
)
from l2b2_queue_bridge.server_db import (
    NOT_CALLABLE,
    PROCESS_NOT_CALLABLE,
    PROCESS_NOT_FOUND,
    REQUEST_NOT_FOUND,
    SCOPE_NOT_FOUND,
    AppointmentDb,
    DbError,
    ScopeRow,
)
from l2b2_queue_bridge.server_entities import process_entity, queue_list, scope_entity
from l2b2_queue_bridge.server_settings import ServerSettings, default_db_path, load_settings

LOG = logging.getLogger('l2b2.appointment_server')
SERVER_NAME = 'l2b2-appointment-server'
DEFAULT_CONFIG = 'appointment_server.yaml'
__all__ = ['RunningServer', 'ServerSettings', 'create_app', 'default_db_path', 'load_settings', 'prepare_database']
SCHEMA_VALIDATION = 'BO\\Zmsentities\\Exception\\SchemaValidation'
#: Largest process or scope id accepted (ZMS ids are far smaller; SQLite holds up to 2**63 - 1).
MAX_ID = 99_999_999_999
ProcessId = Annotated[int, PathParam(ge=1, le=MAX_ID)]
ScopeId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


# -- the application --------------------------------------------------------------------------------


def _meta(status: int, **extra: Any) -> dict[str, Any]:
    return {'error': status >= 400, 'generated': datetime.now().astimezone().isoformat(timespec='seconds'),
            'server': SERVER_NAME, 'status': str(status), **extra}


def _ok(data: Any, **meta: Any) -> JSONResponse:
    extra = {'length': len(data)} if isinstance(data, list) else {}
    return JSONResponse({'meta': _meta(200, **extra, **meta), 'data': data})


def _error(status: int, message: str, exception: str = '', data: Any = None) -> JSONResponse:
    meta = _meta(status, message=message)
    if exception:
        meta['exception'] = exception
    headers = {'Retry-After': str(data['retryAfter'])} if status == 429 and isinstance(data, dict) else None
    return JSONResponse({'meta': meta, 'data': data}, status_code=status, headers=headers)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str, exception: str = 'BadRequest'):
        super().__init__(message)
        self.status, self.message, self.exception = status, message, exception


def _scope_requests(catalog_name: str) -> dict[int, set[str]]:
    """Scope id -> the request (service) ids it offers, from the department catalog."""
    catalog = load_catalog(config_path(catalog_name))
    out: dict[int, set[str]] = {}
    for target in catalog.targets.values():
        if target.scope_id is not None and target.printer_hash:
            out.setdefault(target.scope_id, set()).update(str(s.zms_request_id or s.id) for s in target.services)
    return out


def create_app(db: AppointmentDb, settings: ServerSettings, *, clock=time.time) -> FastAPI:
    app = FastAPI(title='l2b2 appointment server (ZMS subset)', docs_url=None, redoc_url=None, openapi_url=None)
    sessions = Sessions({u.login: u for u in settings.users}, settings.staff_auth_keys,
                        settings.session_duration_s, clock)
    limit = RateLimit(settings.rate_limit_per_minute, 60.0)
    offered = _scope_requests(settings.catalog)
    app.state.sessions = sessions

    def now_ts() -> int:
        return int(clock())

    def scope_or_404(scope_id: int) -> ScopeRow:
        scope = db.scope(scope_id)
        if scope is None:
            raise DbError(404, 'Zu den angegebenen Daten konnte kein Standort gefunden werden.', SCOPE_NOT_FOUND)
        return scope

    def client_of(request: Request) -> str:
        return request.client.host if request.client else '?'

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
        return _error(exc.status, exc.message, exc.exception, exc.data)

    @app.exception_handler(_BadRequest)
    async def _bad_request(_request: Request, exc: _BadRequest) -> JSONResponse:
        return _error(exc.status, exc.message, exc.exception)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = '.'.join(str(x) for x in first.get('loc', ()))
        return _error(400, f'invalid {where}: {first.get("msg", "bad value")}', SCHEMA_VALIDATION)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), 'RouteNotFound' if exc.status_code == 404 else 'HttpError')

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        LOG.error('unexpected %s', type(exc).__name__)
        return _error(500, 'internal error', type(exc).__name__)

    @app.get('/status/')
    def status(x_authkey: Annotated[str | None, Header()] = None,
               x_token: Annotated[str | None, Header()] = None) -> JSONResponse:
        token_ok = bool(settings.status_token) and hmac.compare_digest((x_token or '').encode(),
                                                                        settings.status_token.encode())
        if not token_ok and sessions.resolve(x_authkey) is None:
            raise DbError(401, 'Authentication failed - access to status not granted', STATUS_AUTH_FAILED)
        counts = db.count_by_status()
        return _ok({'server': SERVER_NAME, 'generated': datetime.now().astimezone().isoformat(timespec='seconds'),
                    'processes': {k: counts.get(k, 0) for k in ('confirmed', 'queued', 'called', 'missed')},
                    'version': {'major': 2, 'minor': 0, 'patch': 0}})

    @app.post('/workstation/login/')
    async def login(request: Request) -> JSONResponse:
        limit.check(client_of(request))
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get('id'), str) or \
                not isinstance(body.get('password'), str):
            raise _BadRequest(400, 'body must be a useraccount {"id": ..., "password": ...}', SCHEMA_VALIDATION)
        workstation = await run_in_threadpool(sessions.login, body['id'], body['password'])
        scopes = sorted(workstation.user.scopes)
        scope = db.scope(scopes[0]) if scopes else None
        return _ok(workstation.entity(scope_entity(scope) if scope else None))

    @app.delete('/workstation/login/{login}/')
    def logout(login: str, x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        return _ok(sessions.logout(x_authkey, login).entity())

    @app.get('/workstation/')
    def workstation(x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        return _ok(sessions.require(x_authkey).entity())

    @app.get('/process/{process_id}/{auth_key}/')
    def process_by_auth_key(process_id: ProcessId, auth_key: str) -> JSONResponse:
        p = db.process(process_id)
        if p is None:
            raise DbError(404, 'Zu den angegebenen Daten konnte kein Termin gefunden werden.', PROCESS_NOT_FOUND)
        if not p.auth_key or not hmac.compare_digest(auth_key.encode(), p.auth_key.encode()):
            raise DbError(403, 'Der Absagecode ist nicht korrekt.', 'BO\\Zmsbackend\\Process\\Exception\\AuthKeyMatchFailed')
        return _ok(process_entity(p, scope_or_404(p.scope_id), now_ts()))

    @app.get('/process/{process_id}/')
    def process_for_staff(process_id: ProcessId,
                          x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        """Upstream's WorkstationProcessGet: refuses processes that cannot be called, checks the scope."""
        ws = sessions.require(x_authkey)
        p = db.process(process_id)
        if p is None:
            raise DbError(404, 'Zu den angegebenen Daten konnte kein Termin gefunden werden.', PROCESS_NOT_FOUND,
                          {'processId': process_id})
        if p.status in NOT_CALLABLE:
            raise DbError(403, 'Der angegebene Termin kann in seinem aktuellen Status nicht aufgerufen werden.',
                          PROCESS_NOT_CALLABLE, {'processId': p.id, 'status': p.status})
        sessions.require_scope(ws, p.scope_id)
        return _ok(process_entity(p, scope_or_404(p.scope_id), now_ts()))

    @app.post('/process/status/queued/')
    async def process_queued(request: Request, x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        limit.check(client_of(request))
        ws = sessions.require(x_authkey, 'appointment')
        body = await json_body(request)
        pid, auth_key, arrival, requests = _queued_body(body)
        known = db.process(pid)
        if known is not None:
            sessions.require_scope(ws, known.scope_id)
            if requests - offered.get(known.scope_id, set()):
                raise DbError(404, 'Request does not exists', REQUEST_NOT_FOUND)
        p = await run_in_threadpool(db.set_queued, pid, auth_key, now_ts(), arrival)
        return _ok(process_entity(p, scope_or_404(p.scope_id), now_ts()))

    @app.get('/scope/{scope_id}/waitingnumber/{printer_hash}/')
    def waiting_number(request: Request, scope_id: ScopeId, printer_hash: str,
                       requestId: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None) -> JSONResponse:
        limit.check(client_of(request))
        scope = scope_or_404(scope_id)
        if requestId is not None and str(requestId) not in offered.get(scope_id, set()):
            raise DbError(404, 'Request does not exists', REQUEST_NOT_FOUND)
        p = db.draw_ticket(scope_id, datetime.now().astimezone())
        return _ok(process_entity(p, scope, now_ts()))

    @app.get('/scope/{scope_id}/queue/')
    def scope_queue(scope_id: ScopeId, x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        reduced = sessions.resolve(x_authkey) is None
        data = queue_list(db, scope_or_404(scope_id), now_ts(), reduced=reduced)
        return _ok(data, reducedData=True) if reduced else _ok(data)

    @app.post('/calldisplay/queue/')
    async def calldisplay_queue(request: Request, x_authkey: Annotated[str | None, Header()] = None) -> JSONResponse:
        body = await json_body(request)
        scopes = body.get('scopes') if isinstance(body, dict) else None
        if not isinstance(scopes, list) or not all(isinstance(s, dict) and isinstance(s.get('id'), int)
                                                   and not isinstance(s.get('id'), bool)
                                                   and 1 <= s['id'] <= MAX_ID for s in scopes):
            raise _BadRequest(400, 'body must be a calldisplay with scopes: [{"id": <number>}, ...]', SCHEMA_VALIDATION)
        if len(scopes) > 100:
            raise _BadRequest(400, 'at most 100 scopes', SCHEMA_VALIDATION)
        now = now_ts()
        reduced = sessions.resolve(x_authkey) is None

        def collect() -> list[dict]:
            out = []
            for s in scopes:
                out.extend(e for e in queue_list(db, scope_or_404(s['id']), now, reduced=reduced)
                           if e['status'] != 'fake')
            return out
        data = await run_in_threadpool(collect)
        return _ok(data, reducedData=True) if reduced else _ok(data)

    return app


def _queued_body(body: Any) -> tuple[int, str | None, int | None, set[str]]:
    """(id, authKey, queue.arrivalTime, request ids) of a process body; 400 like upstream's schema check."""
    if not isinstance(body, dict):
        raise _BadRequest(400, 'body must be a process object', SCHEMA_VALIDATION)
    pid = body.get('id')
    if isinstance(pid, str) and pid.isdigit() and len(pid) <= len(str(MAX_ID)):
        pid = int(pid)
    if not isinstance(pid, int) or isinstance(pid, bool) or not 1 <= pid <= MAX_ID:
        raise _BadRequest(400, 'process id must be a positive number', SCHEMA_VALIDATION)
    auth_key = body.get('authKey')
    if auth_key is not None and not isinstance(auth_key, str):
        raise _BadRequest(400, 'authKey must be a string', SCHEMA_VALIDATION)
    queue = body.get('queue') if isinstance(body.get('queue'), dict) else {}
    arrival = queue.get('arrivalTime')
    if arrival is not None and (not isinstance(arrival, int) or isinstance(arrival, bool) or arrival < 0
                                or arrival > 10 ** 11):
        raise _BadRequest(400, 'queue.arrivalTime must be a unix timestamp', SCHEMA_VALIDATION)
    requests = body.get('requests') or []
    if isinstance(requests, dict):  # older servers and clients send collections keyed "0", "1", ...
        requests = list(requests.values())
    if not isinstance(requests, list) or not all(isinstance(r, dict) and 'id' in r for r in requests):
        raise _BadRequest(400, 'requests must be a list of {"id": ...}', SCHEMA_VALIDATION)
    return pid, auth_key, arrival or None, {str(r['id']) for r in requests}


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

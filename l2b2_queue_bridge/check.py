"""``l2b2-queue-check``: is the robot's connection to the city's appointment system (ZMS) ready? Read only.

Reads config/queue_bridge.yaml (the queue bridge's own parameters), then: where the credentials come
from (never their value), whether the system answers, whether the workstation login works and has the
``appointment`` permission and which scope it belongs to, whether ``GET /status/`` accepts the session,
and for every catalog target with a queue whether ``GET /scope/{id}/queue/`` can be read (with the
people ahead of a newcomer and the estimate, counted like upstream's ticket printer). With
``--booking N`` it also reads one booking as staff (``GET /process/{N}/``). It draws no waiting number
and checks nobody in; it logs out at the end. Exit status 0 when everything works, 1 otherwise.
"""
from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
import json
import os
import sys
import time

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError, config_path, load_yaml
from l2b2_common.tunables import ParameterError, validated
from l2b2_queue_bridge.adapter import QueueError
from l2b2_queue_bridge.bridge_params import QueueBridgeParams
from l2b2_queue_bridge.zms_adapter import ZmsAdapter
from l2b2_queue_bridge.zms_entities import newcomer
from l2b2_queue_bridge.zms_session import PASSWORD_ENV, CredentialError, read_credentials


@dataclass
class Check:
    what: str
    ok: bool
    detail: str


def load_params(name: str, node: str = 'queue_bridge') -> QueueBridgeParams:
    """The node's parameters from a ROS params file (``queue_bridge: ros__parameters: ...``)."""
    path = config_path(name)
    data = load_yaml(path) or {}
    values = ((data.get(node) or {}).get('ros__parameters') or {}) if isinstance(data, dict) else {}
    try:
        return validated(QueueBridgeParams, str(path), **values)
    except ParameterError as exc:
        raise ConfigError(path, f'{node}.ros__parameters.{exc.name}', exc.reason) from None


def run_checks(params: QueueBridgeParams, booking: str = '', env: dict[str, str] | None = None) -> list[Check]:
    env = os.environ if env is None else env
    checks: list[Check] = []
    try:
        credentials = read_credentials(params.login_name, params.password_file, env)
    except CredentialError as exc:
        return [Check('credentials', False, str(exc))]
    static_key = params.staff_auth_key or env.get('L2B2_ZMS_STAFF_KEY', '')
    if credentials is not None:
        source = f'${PASSWORD_ENV}' if env.get(PASSWORD_ENV) else f'file {params.password_file}'
        checks.append(Check('credentials', True, f'login "{credentials.login}", password from {source}'))
    elif static_key:
        checks.append(Check('credentials', True, 'a fixed staff key (no login); a city ZMS needs login_name'))
    else:
        checks.append(Check('credentials', False, 'no login_name and no staff key: check-in by name and the '
                                                  'status probe cannot work'))
    catalog = load_catalog(config_path(params.catalog))
    scopes = {t.id: t.scope_id for t in catalog.targets.values() if t.scope_id is not None}
    adapter = ZmsAdapter(params.base_url, timeout_s=params.timeout_s, read_retries=params.read_retries,
                         backoff_s=params.backoff_s, staff_auth_key=static_key, credentials=credentials,
                         session_duration_s=params.session_duration_s, renew_before_s=params.renew_before_s,
                         call_budget_s=params.call_budget_s)
    try:
        checks.extend(_session_checks(adapter))
        for target_id, scope_id in sorted(scopes.items()):
            checks.append(_queue_check(adapter, target_id, scope_id))
        if booking:
            checks.append(_booking_check(adapter, booking))
    finally:
        adapter.close()  # logs out
    return checks


def _session_checks(adapter: ZmsAdapter) -> list[Check]:
    out = []
    if adapter.session is not None:
        t0 = time.perf_counter()
        try:
            adapter.session.key()
        except Exception as exc:  # noqa: BLE001 - report whatever it was
            return [Check('login', False, adapter.auth_problem or f'{type(exc).__name__}: {exc}'[:200])]
        ws = adapter.session.workstation
        out.append(Check('login', True, f'POST /workstation/login/ in {(time.perf_counter() - t0) * 1000:.0f} ms, '
                                        f'workstation scope {ws.scope_id if ws.scope_id is not None else "not set"}'))
        if ws.permissions and 'appointment' not in ws.permissions:
            out.append(Check('permission', False, 'the user lacks "appointment" (needed for check-in writes and '
                                                  f'staff reads); has: {", ".join(sorted(ws.permissions))}'))
        else:
            out.append(Check('permission', True, '"appointment"' if ws.permissions else 'not reported by the system'))
    try:
        adapter.probe()
        out.append(Check('status', True, 'GET /status/ answered' + (' with the session' if adapter.has_staff_access
                                                                     else '')))
    except QueueError as exc:
        out.append(Check('status', False, f'GET /status/: {exc.message}'))
    if adapter.auth_problem:
        out.append(Check('credentials accepted', False, adapter.auth_problem))
    return out


def _queue_check(adapter: ZmsAdapter, target_id: str, scope_id: int) -> Check:
    try:
        entries = adapter.get_queue(scope_id)
    except QueueError as exc:
        return Check(f'queue {target_id} (scope {scope_id})', False, f'{exc.reason or exc.code.name}: {exc.message}')
    ahead, wait = newcomer(entries)
    numbers_hidden = any(e.with_appointment and e.number in ('0', '') for e in entries)
    detail = f'{len(entries)} entries; a newcomer waits behind {ahead}, about {wait} min'
    if numbers_hidden:
        return Check(f'queue {target_id} (scope {scope_id})', False,
                     detail + '; booking numbers hidden (reducedData): the session is not accepted here')
    return Check(f'queue {target_id} (scope {scope_id})', True, detail)


def _booking_check(adapter: ZmsAdapter, booking: str) -> Check:
    try:
        p = adapter.get_process(int(booking), None)
        return Check('staff read of a booking', True, f'status {p.status}, scope {p.scope_id}')
    except (QueueError, ValueError) as exc:
        reason = getattr(exc, 'reason', '') or type(exc).__name__
        return Check('staff read of a booking', reason in ('ProcessNotCallable',), f'{reason}: {exc}'[:200])


def main(args: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-queue-check', description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='queue_bridge.yaml', help='queue bridge params file (under config/)')
    parser.add_argument('--base-url', help='override base_url')
    parser.add_argument('--login', help='override login_name')
    parser.add_argument('--booking', default='', help='also read this booking as staff (read only)')
    parser.add_argument('--json', action='store_true', help='machine-readable output')
    opts = parser.parse_args(args)
    try:
        params = load_params(opts.config)
    except ConfigError as exc:
        print(f'[l2b2] configuration error: {exc}', file=sys.stderr)
        return 78
    overrides = {k: v for k, v in (('base_url', opts.base_url), ('login_name', opts.login)) if v is not None}
    if overrides:
        params = validated(QueueBridgeParams, 'command line', **{**asdict(params), **overrides})
    checks = run_checks(params, opts.booking)
    if opts.json:
        print(json.dumps({'base_url': params.base_url, 'ok': all(c.ok for c in checks),
                          'checks': [asdict(c) for c in checks]}, ensure_ascii=False, indent=1))
    else:
        print(f'appointment system {params.base_url}')
        width = max(len(c.what) for c in checks)
        for c in checks:
            print(f'  {"OK  " if c.ok else "FAIL"}  {c.what:<{width}}  {c.detail}')
        print('all checks passed' if all(c.ok for c in checks) else 'some checks FAILED (see above)')
    return 0 if all(c.ok for c in checks) else 1


if __name__ == '__main__':
    raise SystemExit(main())

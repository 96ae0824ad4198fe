"""``l2b2-queue-bridge``: the appointment system as four ROS services for the dialogue and the panel.

``/queue/lookup_appointment``, ``/queue/check_in``, ``/queue/draw_ticket``, ``/queue/get_status``.
Service callbacks are coroutines that hand the HTTP work to a thread pool and await it, so the
executor is never blocked and concurrent requests are served in parallel; every call is bounded by
the adapter's timeouts and circuit breaker. Health ``queue_bridge``: DEGRADED after a failed call,
ERROR while the circuit is open. Booking numbers are logged only redacted, names never.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import os
import time
from typing import Any

from l2b2_interfaces.msg import Appointment, QueueStatus
from l2b2_interfaces.srv import CheckIn, DrawTicket, GetQueueStatus, LookupAppointment
from rclpy.callback_groups import ReentrantCallbackGroup
from rclpy.qos import QoSProfile
from rclpy.task import Future

from l2b2_common.catalog import load_catalog
from l2b2_common.codes import QueueResult
from l2b2_common.config import config_path
from l2b2_common.health import DEGRADED, ERROR, OK, HealthReporter
from l2b2_common.lean_node import LeanNode
from l2b2_common.node_main import run_node
from l2b2_common.privacy import redact
from l2b2_common.tunables import ParameterError, declare_tunables
from l2b2_queue_bridge.bridge_params import QueueBridgeParams
from l2b2_queue_bridge.circuit_breaker import CircuitBreaker
from l2b2_queue_bridge.client import QueueClient
from l2b2_queue_bridge.results import AppointmentView, TargetScope
from l2b2_queue_bridge.zms_adapter import ZmsAdapter
from l2b2_queue_bridge.zms_session import CredentialError, read_credentials

#: Room for bursts of requests (the default depth of 10 drops the 11th concurrent call).
SERVICE_QOS = QoSProfile(depth=100)

class QueueBridgeNode(LeanNode):
    def __init__(self, **kwargs: Any):
        super().__init__('queue_bridge', **kwargs)
        self.p = declare_tunables(self, QueueBridgeParams)
        if not self.p.base_url.startswith(('http://', 'https://')):
            raise ParameterError(self.get_name(), 'base_url', f'"{self.p.base_url}" is not an http(s) URL')
        catalog = load_catalog(config_path(self.p.catalog))
        targets = {t.id: TargetScope(t.id, t.scope_id, t.printer_hash, t.is_open) for t in catalog.targets.values()}
        try:
            credentials = read_credentials(self.p.login_name, self.p.password_file)
        except CredentialError as exc:
            raise ParameterError(self.get_name(), 'login_name', str(exc)) from None
        queues = sorted(t.scope_id for t in catalog.targets.values() if t.scope_id is not None)
        adapter = ZmsAdapter(
            self.p.base_url, timeout_s=self.p.timeout_s, read_retries=self.p.read_retries,
            backoff_s=self.p.backoff_s, staff_auth_key=self.p.staff_auth_key or os.environ.get('L2B2_ZMS_STAFF_KEY', ''),
            credentials=credentials, session_duration_s=self.p.session_duration_s,
            renew_before_s=self.p.renew_before_s, check_in_mode=self.p.check_in_mode,
            breaker=CircuitBreaker(self.p.breaker_failures, self.p.breaker_reset_s),
            max_connections=max(8, self.p.workers), call_budget_s=self.p.call_budget_s,
            probe_scope_id=queues[0] if queues else None)
        # Appointment times are wall-clock times of the city's system, so the check-in window uses the
        # wall clock, not the (possibly simulated) ROS clock.
        service_ids = {str(s.zms_request_id): s.id for t in catalog.targets.values() for s in t.services
                       if s.zms_request_id is not None}
        self.client = QueueClient(adapter, targets, service_ids=service_ids, status_cache_s=self.p.status_cache_s,
                                  early_minutes=self.p.check_in_early_min,
                                  late_minutes=self.p.check_in_late_min,
                                  enforce_opening_hours=self.p.enforce_opening_hours)
        self._pool = ThreadPoolExecutor(max_workers=self.p.workers, thread_name_prefix='queue_bridge')
        self._probing = False
        self._closed = False
        self._check_in_alert = ''  # staff warning about the last failed check-in, no visitor data
        self._check_in_alert_until = 0.0
        self.health = HealthReporter(self, 'queue_bridge')
        self.health.set(OK, 'ready', base_url=self.p.base_url)
        # Reentrant: a mutually exclusive group (the default) would hold every other call back until an
        # awaiting callback has finished, serving the calls one after another.
        group = ReentrantCallbackGroup()
        for srv_type, name, callback in ((LookupAppointment, 'lookup_appointment', self._on_lookup),
                                         (CheckIn, 'check_in', self._on_check_in),
                                         (DrawTicket, 'draw_ticket', self._on_draw_ticket),
                                         (GetQueueStatus, 'get_status', self._on_get_status)):
            self.create_service(srv_type, f'/queue/{name}', callback, qos_profile=SERVICE_QOS, callback_group=group)
        if self.p.probe_period_s > 0:
            self.create_timer(self.p.probe_period_s, self._on_probe_timer)
        self.get_logger().info(f'queue bridge for {self.p.base_url}: '
                               f'{sum(t.scope_id is not None for t in targets.values())} targets with a queue')

    # -- services ----------------------------------------------------------------------------------

    async def _on_lookup(self, request: LookupAppointment.Request, response: LookupAppointment.Response):
        result = await self._offload(self.client.lookup, request.booking_number, request.auth_key, request.name)
        if _fill(response, result):
            self._log('lookup', request.booking_number, result.code)
        return response

    async def _on_check_in(self, request: CheckIn.Request, response: CheckIn.Response):
        result = await self._offload(self.client.check_in, request.booking_number, request.auth_key)
        if _fill(response, result):
            response.waiting_position = result.waiting_position
            response.estimated_wait_minutes = result.estimated_wait_minutes
            self._log('check-in', request.booking_number, result.code)
            self._note_check_in(result)
            self._update_health()
        return response

    def _note_check_in(self, result) -> None:
        """Staff hear of a failed check-in (a visitor may need help at the desk): code and target only."""
        if result.code in (QueueResult.OK, QueueResult.ALREADY_CHECKED_IN):
            self._check_in_alert = ''
        elif result.code != QueueResult.UNAVAILABLE and self.p.check_in_alert_s > 0:  # outages have their own alert
            target = result.appointment.target_id if getattr(result, 'appointment', None) else ''
            where = f' at {target}' if target else ''
            self._check_in_alert = f'check-in failed: {result.code.name.lower().replace("_", " ")}{where}'
            self._check_in_alert_until = time.monotonic() + self.p.check_in_alert_s

    async def _on_draw_ticket(self, request: DrawTicket.Request, response: DrawTicket.Response):
        result = await self._offload(self.client.draw_ticket, request.target_id, request.idempotency_key)
        if _fill(response, result):
            response.display_number = result.display_number
            response.waiting_count = result.waiting_count
            response.estimated_wait_minutes = result.estimated_wait_minutes
            self.get_logger().info(f'draw ticket {request.target_id[:40]}: {result.code.name}')
        return response

    async def _on_get_status(self, request: GetQueueStatus.Request, response: GetQueueStatus.Response):
        result = await self._offload(self.client.queue_status, request.target_id)
        if _fill(response, result):
            response.queues = [QueueStatus(target_id=q.target_id, scope_id=q.scope_id, available=q.available,
                                           waiting_count=q.waiting_count,
                                           estimated_wait_minutes=q.estimated_wait_minutes)
                               for q in result.queues]
        return response

    def _offload(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Run ``fn`` in the pool; the returned future (awaitable in a callback) resolves to its result or None."""
        future = Future(executor=self.executor)
        future.add_done_callback(lambda _f: self._update_health())  # also wakes the executor when done

        def work() -> None:
            try:
                with self.client.adapter.deadline(self.p.service_deadline_s):
                    result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - a bug must not leave a service call unanswered
                self.get_logger().error(f'{getattr(fn, "__name__", "call")} failed: {type(exc).__name__}')
                result = None
            future.set_result(result)

        try:
            if self._closed:
                raise RuntimeError('closed')
            self._pool.submit(work)
        except RuntimeError:  # closing (also when close() ran between the check and the submit)
            future.set_result(None)
        return future

    def _on_probe_timer(self) -> None:
        if self._probing or self._closed:
            return
        self._probing = True

        def done(_f: Future) -> None:
            self._probing = False

        self._offload(self.client.probe).add_done_callback(done)

    def _update_health(self) -> None:
        available, reason = self.client.availability()
        problem = self.client.adapter.auth_problem
        if problem:  # wrong or expired credentials, a missing permission: staff must act
            self.health.set(ERROR, f'appointment system login: {problem}'[:200])
        elif not available:
            self.health.set(ERROR, f'appointment system unavailable: {reason}'[:200])
        elif reason != 'ok':
            self.health.set(DEGRADED, f'appointment system unreliable: {reason}'[:200])
        elif self._check_in_alert and time.monotonic() < self._check_in_alert_until:
            self.health.set(DEGRADED, self._check_in_alert[:200])
        else:
            self.health.set(OK, 'appointment system reachable')

    def _log(self, what: str, booking_number: str, code: QueueResult) -> None:
        self.get_logger().info(f'{what} {redact(booking_number.strip(), "booking")}: {code.name}')

    def close(self) -> None:
        """Stop serving, then log the workstation out (bounded by the HTTP timeout) and close connections."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.adapter.close()


def _fill(response, result) -> bool:
    """Copy the outcome (and the appointment, where the response has one) into a service response.

    ``result`` None means the client call itself failed (a bug, already logged): the caller still gets
    an answer, never a hanging call. Returns whether there is a result to copy more from.
    """
    if result is None:
        response.result, response.message = QueueResult.ERROR, 'internal error'
        return False
    response.result, response.message = int(result.code), result.message
    if getattr(result, 'appointment', None):
        response.appointment = _appointment_msg(result.appointment)
    return True


def _appointment_msg(view: AppointmentView) -> Appointment:
    return Appointment(booking_number=view.booking_number, status=view.status,
                       appointment_time=view.appointment_time, target_id=view.target_id, scope_id=view.scope_id,
                       services=list(view.services), display_number=view.display_number)


def main(args: list[str] | None = None) -> int:
    return run_node(lambda: QueueBridgeNode(), args)


if __name__ == '__main__':
    raise SystemExit(main())

"""Service and action calls that always end: with the answer, or UNAVAILABLE and a reason, by a deadline.

Every node that asks another for something (the dialogue asking the queue bridge and the escort, the
escort asking Nav2, the panel asking the gate and the escort) goes through :class:`BoundedCaller`, so
the "never hang" guarantee lives and is tested in one place (``test/l2b2_common/test_calls.py``):

- a call waits at most ``server_wait_s`` for the server to appear, then at most ``answer_timeout_s``
  for the answer; either limit ends it with ``ok=False`` and a reason;
- ``on_done`` is called exactly once, from the executor, never while this module holds a lock;
- an action goal accepted after its call timed out is cancelled, so no goal runs that nobody follows;
- deadlines run on the node clock (sim time in simulation); a steady poll timer runs only while calls
  are pending, so an idle node costs nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from threading import RLock
from typing import Any

from rclpy.action import ActionClient
from rclpy.clock import Clock, ClockType
from rclpy.node import Node

NO_SERVER = 'no server'
NO_ANSWER = 'no answer in time'
SERVER_GONE = 'server went away'


@dataclass(frozen=True)
class CallOutcome:
    """How a call ended. ``value``: the service response, the goal handle, or the action's wrapped result."""

    ok: bool
    value: Any = None
    reason: str = ''


@dataclass(eq=False)
class PendingCall:
    """One call under way. ``cancel()`` drops it: its ``on_done`` is then never called."""

    client: Any
    request: Any
    on_done: Callable[[CallOutcome], None]
    server_wait_s: float
    answer_timeout_s: float
    started: float
    feedback_callback: Callable | None = None
    #: Set once sent; for a result watch, the goal handle whose result is awaited.
    future: Any = None
    sent_at: float | None = None
    goal_handle: Any = None
    server_gone_since: float | None = None
    done: bool = False
    _owner: BoundedCaller | None = field(default=None, repr=False)

    @property
    def is_action(self) -> bool:
        return isinstance(self.client, ActionClient)

    def cancel(self) -> None:
        if self._owner is not None:
            self._owner._drop(self)


class BoundedCaller:
    """Makes bounded calls on behalf of ``node``; see the module docstring for the guarantees."""

    def __init__(self, node: Node, *, callback_group=None, poll_s: float = 0.05):
        self._node = node
        self._lock = RLock()
        self._pending: list[PendingCall] = []
        self._timer = node.create_timer(poll_s, self._poll, callback_group=callback_group,
                                        clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._timer.cancel()  # runs only while something is pending
        # A call made from another thread (a web server, a test) must wake an executor that sleeps in its
        # wait set without this timer: the guard condition makes it look at the reset timer at once.
        self._wake = node.create_guard_condition(lambda: None, callback_group=callback_group)

    def _now(self) -> float:
        return self._node.get_clock().now().nanoseconds * 1e-9

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    # ------------------------------------------------------------------------------------------ calls
    def call(self, client, request, on_done: Callable[[CallOutcome], None], *, server_wait_s: float,
             answer_timeout_s: float, feedback_callback: Callable | None = None) -> PendingCall:
        """Call a service (``client.call_async``) or send an action goal (``client.send_goal_async``).

        For an action, a successful outcome's ``value`` is the goal handle, accepted or not: check
        ``value.accepted``.
        """
        pc = PendingCall(client, request, on_done, server_wait_s, answer_timeout_s, self._now(),
                         feedback_callback, _owner=self)
        with self._lock:
            self._pending.append(pc)
            self._try_send(pc, pc.started)
            self._timer.reset()
        self._wake.trigger()
        return pc

    def watch_result(self, goal_handle, on_result: Callable[[CallOutcome], None], *, server_gone_s: float,
                     client: ActionClient | None = None) -> PendingCall:
        """Wait for an accepted goal's result (no time limit: an escort takes minutes), but end with
        ``ok=False, reason=SERVER_GONE`` when the action server has been gone for ``server_gone_s``."""
        client = client if client is not None else goal_handle._action_client  # rclpy keeps no public handle
        pc = PendingCall(client, None, on_result, server_gone_s, float('inf'), self._now(), _owner=self)
        pc.goal_handle, pc.sent_at = goal_handle, pc.started
        with self._lock:
            self._pending.append(pc)
            pc.future = goal_handle.get_result_async()
            self._timer.reset()
        self._wake.trigger()
        pc.future.add_done_callback(lambda fut, pc=pc: self._on_answer(pc, fut))
        return pc

    # -------------------------------------------------------------------------------------- internals
    def _try_send(self, pc: PendingCall, now: float) -> None:
        ready = pc.client.server_is_ready() if pc.is_action else pc.client.service_is_ready()
        if not ready:
            return
        pc.sent_at = now
        if pc.is_action:
            pc.future = pc.client.send_goal_async(pc.request, feedback_callback=pc.feedback_callback)
        else:
            pc.future = pc.client.call_async(pc.request)
        pc.future.add_done_callback(lambda fut, pc=pc: self._on_answer(pc, fut))

    def _poll(self) -> None:
        now = self._now()
        ended: list[tuple[PendingCall, CallOutcome]] = []
        with self._lock:
            for pc in list(self._pending):
                if pc.goal_handle is not None:  # a result watch: is the server still there?
                    if pc.client.server_is_ready():
                        pc.server_gone_since = None
                    elif pc.server_gone_since is None:
                        pc.server_gone_since = now
                    elif now - pc.server_gone_since >= pc.server_wait_s:
                        ended.append((pc, CallOutcome(False, None, SERVER_GONE)))
                elif pc.future is None:
                    self._try_send(pc, now)
                    if pc.future is None and now - pc.started >= pc.server_wait_s:
                        ended.append((pc, CallOutcome(False, None, NO_SERVER)))
                elif not pc.future.done() and now - pc.sent_at >= pc.answer_timeout_s:
                    if not pc.is_action:
                        pc.client.remove_pending_request(pc.future)
                    ended.append((pc, CallOutcome(False, None, NO_ANSWER)))
        for pc, outcome in ended:
            self._finish(pc, outcome)

    def _on_answer(self, pc: PendingCall, future) -> None:
        try:
            value = future.result()
        except Exception as exc:  # noqa: BLE001 - any transport failure means: unavailable
            self._finish(pc, CallOutcome(False, None, f'error {type(exc).__name__}'))
            return
        if pc.done and pc.is_action and pc.goal_handle is None and getattr(value, 'accepted', False):
            value.cancel_goal_async()  # accepted after the caller gave up on it: nobody follows this goal
            return
        self._finish(pc, CallOutcome(True, value))

    def _finish(self, pc: PendingCall, outcome: CallOutcome) -> None:
        with self._lock:
            if pc.done:
                return
            pc.done = True
            self._remove(pc)
        pc.on_done(outcome)  # outside the lock: the callback may take the node's own lock or call again

    def _drop(self, pc: PendingCall) -> None:
        with self._lock:
            pc.done = True
            self._remove(pc)

    def _remove(self, pc: PendingCall) -> None:
        if pc in self._pending:
            self._pending.remove(pc)
        if not self._pending:
            self._timer.cancel()

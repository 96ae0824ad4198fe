"""A private rclpy context spun in a background thread: for tests, benchmarks and tools that drive nodes
from plain Python and wait on conditions (with timeouts, never fixed sleeps)."""
from __future__ import annotations

from collections.abc import Callable
import threading
import time
import traceback
from typing import Any

import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node

from l2b2_common.lean_node import LeanNode


def destroy_node(node: Node) -> None:
    """``node.destroy_node()`` and its action clients and servers too.

    rclpy's ``destroy_node`` leaves waitables alone, and an action client or server keeps the node's rcl
    handle, and so the context's DDS participant, alive until garbage collection. Participants left over
    that way fill the localhost discovery range (32 per domain), and processes started later no longer
    find each other.
    """
    node.destroy_node()  # first: a node that destroys its own servers there must not see them destroyed twice
    for waitable in list(node.waitables):
        destroy = getattr(waitable, 'destroy', None)
        if callable(destroy):
            destroy()


class RosHarness:
    """Own context and executor; ``add`` nodes, ``wait_for`` conditions, ``close`` tears all down."""

    def __init__(self, threads: int = 6) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.executor = MultiThreadedExecutor(num_threads=threads, context=self.context)
        self.nodes: list[Node] = []
        self._closing = False
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        """Spin until closed. A failed wake-up is reported and spinning goes on: rclpy Kilted registers an
        ActionClient with its node before the client is fully built, so creating one on a node that is
        already spinning can make one wake-up fail (AttributeError: no '_lock'); the graph must not die."""
        failures = 0
        while not self._closing and self.context.ok():
            try:
                self.executor.spin_once(timeout_sec=0.5)
                failures = 0
            except Exception as exc:  # noqa: BLE001 - shutdown races end the spin; anything else is reported
                if self._closing or not self.context.ok():
                    return
                traceback.print_exception(exc)
                failures += 1
                if failures >= 20:  # not a race but a broken graph: stop, the waiting test times out
                    return

    def add(self, node: Node) -> Node:
        self.executor.add_node(node)
        self.nodes.append(node)
        return node

    def node(self, name: str = 'probe') -> Node:
        """A node (a LeanNode) for the caller's own publishers, subscribers and clients."""
        return self.add(LeanNode(name, context=self.context))

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = 'condition') -> Any:
        """Poll ``predicate`` until it returns something truthy; TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f'timed out after {timeout:.1f} s waiting for {what}')
            time.sleep(0.01)

    def wait_future(self, future, timeout: float = 10.0, what: str = 'future') -> Any:
        self.wait_for(future.done, timeout, what)
        return future.result()

    def close(self) -> None:
        self._closing = True
        for node in reversed(self.nodes):
            close = getattr(node, 'close', None)
            if callable(close):
                close()
            self.executor.remove_node(node)
            destroy_node(node)
        self.executor.shutdown(timeout_sec=2.0)
        if self.context.ok():  # a test may have shut it down already, as Ctrl-C does
            rclpy.shutdown(context=self.context)
        self._thread.join(timeout=5.0)

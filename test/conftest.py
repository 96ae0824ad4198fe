"""Test-wide set-up: every test session gets its own ROS domain, localhost only.

The ``ros`` fixture gives a test its own rclpy context with an executor spinning in a background
thread, so a test adds the real nodes it needs and waits on conditions (never on fixed sleeps).
"""
from __future__ import annotations

from collections.abc import Callable
import os
import random
import threading
import time

import pytest

# Isolate from every other ROS graph on this machine, before rclpy is imported anywhere.
# pytest-xdist workers (if used) share the session's domain id through the environment.
os.environ.setdefault('L2B2_TEST_DOMAIN_ID', str(random.SystemRandom().randint(1, 101)))
os.environ['ROS_DOMAIN_ID'] = os.environ['L2B2_TEST_DOMAIN_ID']
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.pop('ROS_STATIC_PEERS', None)
os.environ.setdefault('RCUTILS_LOGGING_BUFFERED_STREAM', '0')

import rclpy
from rclpy.executors import MultiThreadedExecutor
from rclpy.node import Node


class RosHarness:
    """A private rclpy context, spun in a background thread, plus helpers to wait on conditions."""

    def __init__(self) -> None:
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.executor = MultiThreadedExecutor(num_threads=4, context=self.context)
        self._nodes: list[Node] = []
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        try:
            self.executor.spin()
        except Exception:  # noqa: BLE001 - shutdown races end the spin; the test reports failures
            pass

    def add(self, node: Node) -> Node:
        self.executor.add_node(node)
        self._nodes.append(node)
        return node

    def node(self, name: str = 'test_probe') -> Node:
        """A plain node for the test's own publishers, subscribers and clients."""
        return self.add(rclpy.create_node(name, context=self.context))

    def wait_for(self, predicate: Callable[[], object], timeout: float = 10.0, what: str = 'condition'):
        """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f'timed out after {timeout:.1f} s waiting for {what}')
            time.sleep(0.01)

    def wait_future(self, future, timeout: float = 10.0, what: str = 'future'):
        self.wait_for(future.done, timeout, what)
        return future.result()

    def close(self) -> None:
        for node in reversed(self._nodes):
            close = getattr(node, 'close', None)
            if callable(close):
                close()
            self.executor.remove_node(node)
            node.destroy_node()
        self.executor.shutdown(timeout_sec=2.0)
        rclpy.shutdown(context=self.context)
        self._thread.join(timeout=5.0)


@pytest.fixture
def ros():
    harness = RosHarness()
    try:
        yield harness
    finally:
        harness.close()

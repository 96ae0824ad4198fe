"""Test-wide set-up: every test session gets its own ROS domain, localhost only.

The ``ros`` fixture gives a test its own rclpy context with an executor spinning in a background
thread (l2b2_common.ros_harness), so a test adds the real nodes it needs and waits on conditions
(never on fixed sleeps).
"""
from __future__ import annotations

from collections.abc import Callable
import os
import random

import pytest

# Isolate from every other ROS graph on this machine, before rclpy is imported anywhere.
# pytest-xdist workers (if used) share the session's domain id through the environment.
os.environ.setdefault('L2B2_TEST_DOMAIN_ID', str(random.SystemRandom().randint(1, 101)))
os.environ['ROS_DOMAIN_ID'] = os.environ['L2B2_TEST_DOMAIN_ID']
os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
os.environ.pop('ROS_STATIC_PEERS', None)
os.environ.setdefault('RCUTILS_LOGGING_BUFFERED_STREAM', '0')

from l2b2_common.ros_harness import RosHarness


class TestHarness(RosHarness):
    """The shared harness, failing the test (rather than raising) when a wait times out."""

    def wait_for(self, predicate: Callable[[], object], timeout: float = 10.0, what: str = 'condition'):
        try:
            return super().wait_for(predicate, timeout, what)
        except TimeoutError as exc:
            pytest.fail(str(exc))


@pytest.fixture
def ros():
    harness = TestHarness()
    try:
        yield harness
    finally:
        harness.close()

"""Closing a harness leaves no DDS participant behind, also when its nodes had action clients and servers.

A participant left over holds a participant id of the test session's domain; with 32 of them (the localhost
discovery range), processes started later by other tests no longer found each other (CI failed so).
"""
from __future__ import annotations

import gc
import os

from nav2_msgs.action import NavigateToPose
import psutil
from rclpy.action import ActionClient, ActionServer

from l2b2_common.ros_harness import RosHarness


def _domain_ports() -> set[int]:
    """UDP ports this process holds in its ROS domain's port block (RTPS: 7400 + 250 × domain id)."""
    base = 7400 + 250 * int(os.environ['ROS_DOMAIN_ID'])
    return {c.laddr.port for c in psutil.Process().net_connections(kind='udp') if base <= c.laddr.port < base + 250}


def test_closing_a_harness_frees_its_participant_without_garbage_collection():
    before = _domain_ports()
    gc.disable()  # what frees the participant must be the close itself, not a collection that happens to run
    try:
        for _ in range(3):
            harness = RosHarness()
            node = harness.node('with_actions')
            ActionClient(node, NavigateToPose, 'navigate_to_pose')
            ActionServer(node, NavigateToPose, 'navigate_to_pose', lambda goal: NavigateToPose.Result())
            assert _domain_ports() - before, 'the harness has a participant while open'
            harness.close()
            assert _domain_ports() == before
    finally:
        gc.enable()

"""``LeanNode``: an rclpy Node whose publishers and subscriptions carry no default QoS-event handlers.

rclpy gives every publisher and subscription made without ``event_callbacks`` two event handlers (to warn of
an incompatible QoS or type), each a Python waitable. Its executor rebuilds the wait set and then, for every
waitable of every node, checks membership in a list of all of them: a cost that grows with the square of
their number and is paid on every wake-up. For the simulated stack in one test process (some hundred
handlers, woken by /clock at 150 Hz) it was most of a core: an escort meant to run at 3x real time ran at
1x, and a launched node spends it idle. Without the handlers the same escort ran about 9x faster.

What is lost is rclpy's warning when a peer offers an incompatible QoS; ``ros2 topic info -v <topic>`` shows
both sides' QoS (docs/interfaces.md lists ours). A caller that wants an event passes its own
``event_callbacks``: those are kept.
"""
from __future__ import annotations

from typing import Any

from rclpy.event_handler import PublisherEventCallbacks, SubscriptionEventCallbacks
from rclpy.node import Node


class LeanNode(Node):
    """A Node without rclpy's default QoS-event handlers (also on /clock and /parameter_events)."""

    def create_publisher(self, *args: Any, event_callbacks: PublisherEventCallbacks | None = None,
                         **kwargs: Any):
        return super().create_publisher(
            *args, event_callbacks=event_callbacks or PublisherEventCallbacks(use_default_callbacks=False),
            **kwargs)

    def create_subscription(self, *args: Any, event_callbacks: SubscriptionEventCallbacks | None = None,
                            **kwargs: Any):
        return super().create_subscription(
            *args, event_callbacks=event_callbacks or SubscriptionEventCallbacks(use_default_callbacks=False),
            **kwargs)

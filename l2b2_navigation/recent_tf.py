"""The shared TfListener with a short /tf queue, for nodes that must not fall behind the robot.

``qos.TF`` keeps 100 messages, as tf2 does for buffers that look up the past. A node that wants the
pose *now* (the escort, the stand-in navigator) or that waits for the pose at a scan's stamp (the
person tracker) must not work through seconds of old transforms: a simulation running faster than
real time, or a busy robot computer, outruns a deep queue and the node falls ever further behind.
With a short queue old transforms are dropped and the newest is always near.

Interim: once :class:`~l2b2_common.tf_listener.TfListener` takes a ``qos`` argument, this module
goes and its users pass ``qos=`` instead.
"""
from __future__ import annotations

from collections.abc import Callable

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from tf2_msgs.msg import TFMessage

from l2b2_common.frames import FrameTree
from l2b2_common.tf_listener import TfListener


def recent_tf_qos(depth: int) -> QoSProfile:
    return QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)


class RecentTfListener(TfListener):
    """:class:`TfListener` whose /tf subscription keeps only the ``depth`` newest messages."""

    def __init__(self, node: Node, tree: FrameTree | None = None, *, depth: int, callback_group=None,
                 on_update: Callable[[TFMessage], None] | None = None):
        super().__init__(node, tree, callback_group=callback_group, on_update=on_update)
        node.destroy_subscription(self._subs[0])
        self._subs[0] = node.create_subscription(TFMessage, '/tf', self._on_tf, recent_tf_qos(depth),
                                                 callback_group=callback_group)

    def close(self, node: Node) -> None:
        """Stop listening (a node that needs /tf only while it works sleeps through the rest)."""
        for sub in self._subs:
            node.destroy_subscription(sub)
        self._subs = []

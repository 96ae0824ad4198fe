"""The one way a node reads /tf and /tf_static: into a :class:`~l2b2_common.frames.FrameTree`.

Subscribes with tf2's own QoS (``qos.TF``, ``qos.TF_STATIC``) so it matches every tf publisher,
including robot_state_publisher's latched static transforms.
"""
from __future__ import annotations

from collections.abc import Callable

from rclpy.node import Node
from rclpy.qos import QoSProfile
from tf2_msgs.msg import TFMessage

from l2b2_common.frames import FrameTree
from l2b2_common.geometry import Pose2D, yaw_from_msg
from l2b2_common.qos import TF, TF_STATIC


def stamp_seconds(stamp) -> float:
    """A builtin_interfaces/Time as float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9


class TfListener:
    """Feeds ``tree`` from /tf and /tf_static; ``on_update(msg)`` runs after each message is applied.

    ``depth`` shortens the /tf queue further for a node that only ever wants the newest pose.
    ``close()`` stops listening: a node that needs /tf only while it works sleeps through the rest.
    """

    def __init__(self, node: Node, tree: FrameTree | None = None, *, callback_group=None, depth: int | None = None,
                 on_update: Callable[[TFMessage], None] | None = None):
        self.tree = tree if tree is not None else FrameTree()
        self._node = node
        self._on_update = on_update
        qos = TF if depth is None else QoSProfile(depth=depth, reliability=TF.reliability)
        self._subs = [node.create_subscription(TFMessage, '/tf', self._on_tf, qos, callback_group=callback_group),
                      node.create_subscription(TFMessage, '/tf_static', self._on_tf, TF_STATIC,
                                               callback_group=callback_group)]

    def close(self) -> None:
        for sub in self._subs:
            self._node.destroy_subscription(sub)
        self._subs = []

    def _on_tf(self, msg: TFMessage) -> None:
        for t in msg.transforms:
            tr = t.transform.translation
            self.tree.set(t.header.frame_id, t.child_frame_id,
                          Pose2D(tr.x, tr.y, yaw_from_msg(t.transform.rotation)), stamp_seconds(t.header.stamp))
        if self._on_update is not None:
            self._on_update(msg)

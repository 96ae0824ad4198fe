"""LeanNode: no default QoS-event handlers (the executor's upkeep of them cost most of a core), own ones kept,
and messages still flow."""
from __future__ import annotations

from rclpy.event_handler import EventHandler, SubscriptionEventCallbacks
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String

from l2b2_common.lean_node import LeanNode
from l2b2_common.qos import RELIABLE


def _event_waitables(node) -> int:
    return sum(isinstance(w, EventHandler) for w in node.waitables)


def test_a_plain_node_has_event_handlers_a_lean_node_none_also_on_clock_and_parameter_events(ros):
    sim_time = [Parameter('use_sim_time', value=True)]
    plain = ros.add(Node('plain', context=ros.context, parameter_overrides=sim_time))
    lean = ros.add(LeanNode('lean', context=ros.context, parameter_overrides=sim_time))
    for node in (plain, lean):
        node.create_publisher(String, 'lean_test', RELIABLE)
        node.create_subscription(String, 'lean_test', lambda _msg: None, RELIABLE)
    assert _event_waitables(plain) > 0  # what rclpy does by default: the reason for LeanNode
    assert _event_waitables(lean) == 0
    assert any(sub.topic_name == '/clock' for sub in lean.subscriptions)  # sim time still subscribed


def test_event_callbacks_a_caller_asks_for_are_kept(ros):
    lean = ros.add(LeanNode('lean_own', context=ros.context))

    def mine(_event) -> None:
        pass
    lean.create_subscription(String, 'lean_own', lambda _msg: None, RELIABLE,
                             event_callbacks=SubscriptionEventCallbacks(incompatible_qos=mine))
    assert any(getattr(w, 'callback', None) is mine for w in lean.waitables)


def test_messages_flow_between_lean_nodes(ros):
    sender, receiver = ros.add(LeanNode('lean_tx', context=ros.context)), ros.add(LeanNode('lean_rx', context=ros.context))
    got: list[str] = []
    receiver.create_subscription(String, 'lean_flow', lambda msg: got.append(msg.data), RELIABLE)
    pub = sender.create_publisher(String, 'lean_flow', RELIABLE)
    ros.wait_for(lambda: pub.get_subscription_count() > 0, 10.0, 'subscriber matched')
    pub.publish(String(data='hallo'))
    ros.wait_for(lambda: got == ['hallo'], 10.0, 'message received')

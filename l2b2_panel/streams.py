"""``panel_streams``: the panel's second, tiny node for the topics that never stop, spun on its own thread.

An rclpy executor walks every entity of its nodes on each wake-up. The panel node has ~70 (service and
action clients, publishers, subscriptions and their QoS event handlers); waking it for each /tf and
/odom message (50 Hz each) and each component's 1 Hz health cost more than all the panel's own work.
This node holds only those subscriptions (the robot bridge creates them here), so a wake-up is cheap,
and the main node wakes for what staff and visitors do. Callbacks run on this node's thread: they
only touch the thread-safe :class:`~l2b2_panel.state.PanelState` and wake the browsers. It keeps the
panel node's clock (``use_sim_time``): a launch file's ``/**`` parameters must not give it another.
"""
from __future__ import annotations

import threading

from rclpy.context import Context
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.parameter import Parameter

from l2b2_common.lean_node import LeanNode


class StreamNode(LeanNode):
    """Spins itself from construction until :meth:`close`."""

    def __init__(self, context: Context, use_sim_time: bool = False):
        super().__init__('panel_streams', context=context,
                         parameter_overrides=[Parameter('use_sim_time', value=use_sim_time)])
        self._executor = SingleThreadedExecutor(context=context)
        self._executor.add_node(self)
        self._closing = False
        self._thread = threading.Thread(target=self._spin, name='panel-streams', daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        """Spin until closed. A failing callback is logged and spinning goes on: one bad message must
        not freeze the robot's picture on every screen."""
        while self.context.ok() and not self._closing:
            try:
                self._executor.spin()
            except ExternalShutdownException:
                return
            except Exception as exc:  # noqa: BLE001 - a callback failed, or the context shut down under us
                if not self.context.ok() or self._closing:
                    return
                self.get_logger().error(f'stream callback failed: {type(exc).__name__}: {exc}')

    def close(self) -> None:
        """Stop spinning and leave the graph (the panel node calls this from its own close)."""
        self._closing = True
        self._executor.shutdown(timeout_sec=1.0)
        self._thread.join(timeout=5.0)
        self.destroy_node()

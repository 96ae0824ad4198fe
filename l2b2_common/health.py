"""Every node reports its health on /l2b2/health so the panel can show what works and what does not."""
from __future__ import annotations

from l2b2_interfaces.msg import ComponentHealth
from rclpy.node import Node

from l2b2_common.codes import HealthLevel

HEALTH_TOPIC = '/l2b2/health'
OK, DEGRADED, ERROR, STALE = HealthLevel.OK, HealthLevel.DEGRADED, HealthLevel.ERROR, HealthLevel.STALE


class HealthReporter:
    """Publishes the component's current health now and then periodically (1 Hz by default)."""

    def __init__(self, node: Node, component: str, period_s: float = 1.0):
        self._node = node
        self._msg = ComponentHealth(component=component, level=int(OK), message='starting')
        self._pub = node.create_publisher(ComponentHealth, HEALTH_TOPIC, 10)
        self._timer = node.create_timer(period_s, self.publish)

    @property
    def level(self) -> int:
        return self._msg.level

    @property
    def message(self) -> str:
        return self._msg.message

    def set(self, level: int, message: str, **details: object) -> None:
        """Change the health; a change is published at once and logged once."""
        changed = (level, message) != (self._msg.level, self._msg.message)
        self._msg.level, self._msg.message = int(level), message
        self._msg.keys = [str(k) for k in details]
        self._msg.values = [str(v) for v in details.values()]
        if changed:
            # rclpy forbids one call site logging at two severities: two branches, two call sites.
            if level == OK:
                self._node.get_logger().info(f'health: {message}')
            else:
                self._node.get_logger().warning(f'health: {message}')
            self.publish()

    def publish(self) -> None:
        self._msg.header.stamp = self._node.get_clock().now().to_msg()
        self._pub.publish(self._msg)

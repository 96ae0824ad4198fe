"""Health reports reach /l2b2/health and a node can go OK -> DEGRADED -> OK without crashing."""
from l2b2_interfaces.msg import ComponentHealth
from rclpy.node import Node

from l2b2_common.health import DEGRADED, HEALTH_TOPIC, OK, HealthReporter


def test_health_changes_are_published_and_logged_at_both_levels(ros, capfd):
    node = ros.add(Node('h', context=ros.context))
    received = []
    ros.node().create_subscription(ComponentHealth, HEALTH_TOPIC, received.append, 10)
    health = HealthReporter(node, 'widget', period_s=0.1)
    health.set(DEGRADED, 'model missing', engine='vosk')
    health.set(OK, 'ready')
    health.set(DEGRADED, 'model missing again')
    health.set(DEGRADED, 'model missing again')  # no change: not logged a second time
    ros.wait_for(lambda: any(m.level == DEGRADED and m.keys == [] for m in received), what='degraded health')
    ros.wait_for(lambda: received and received[-1].message == 'model missing again', what='latest health')
    assert all(m.component == 'widget' for m in received)
    # rclpy logs through rcutils to the process's stderr: read it at the file-descriptor level.
    lines = [line for line in capfd.readouterr().err.splitlines() if '[h]: health:' in line]
    assert len(lines) == 3, lines
    assert '[WARN]' in lines[0] and lines[0].endswith('health: model missing')
    assert '[INFO]' in lines[1] and lines[1].endswith('health: ready')
    assert '[WARN]' in lines[2] and lines[2].endswith('health: model missing again')

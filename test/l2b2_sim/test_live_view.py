"""Foxglove live view on loopback, and MCAP recording only when a path is given."""
from __future__ import annotations

import socket

from nav_msgs.msg import Odometry
import pytest
from rclpy.parameter import Parameter

from l2b2_sim.live_view import LiveView
from l2b2_sim.simulator_node import SimulatorNode
from l2b2_sim.world import SimWorld


def _other_local_addresses() -> list[str]:
    """Addresses of this machine other than 127.0.0.1: another loopback address (Linux routes all of
    127/8 to lo) and the address of the interface that a route outside would leave by, if any."""
    addresses = ['127.0.0.2']
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(('192.0.2.255', 9))  # UDP connect sends nothing: it only picks the interface
        address = probe.getsockname()[0]
        if not address.startswith('127.'):
            addresses.append(address)
    except OSError:
        pass  # no route off this machine: only loopback exists
    finally:
        probe.close()
    return addresses


def test_websocket_listens_on_loopback_only():
    world = SimWorld()
    view = LiveView(world, port=0)
    try:
        with socket.create_connection(('127.0.0.1', view.port), timeout=10.0):
            pass
        for address in _other_local_addresses():
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection((address, view.port), timeout=10.0).close()
        view.publish(0.1, world.pose, world.scan(), [(1, 6.0, 5.2, 0.0, 0.0)])
    finally:
        view.close()
        world.close()


def test_simulator_records_an_mcap_file_when_asked(ros, tmp_path):
    path = tmp_path / 'runs' / 'sim.mcap'
    sim = ros.add(SimulatorNode(context=ros.context, parameter_overrides=[
        Parameter('real_time_factor', value=0.0), Parameter('mcap_path', value=str(path))]))
    odom = []
    ros.node('probe').create_subscription(Odometry, '/odom', odom.append, 10)
    ros.wait_for(lambda: odom and odom[-1].header.stamp.sec >= 2, 30.0, '2 s of simulation')
    sim.close()
    data = path.read_bytes()
    assert data[:5] == b'\x89MCAP' and data[-8:] == b'\x89MCAP0\r\n'  # complete: header and footer magic
    for channel in (b'/scan', b'/tf', b'/scene'):
        assert channel in data


def test_nothing_is_recorded_by_default(ros, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sim = ros.add(SimulatorNode(context=ros.context))
    assert sim.live_view is None
    assert not list(tmp_path.iterdir())


def test_recording_from_the_environment_names_the_file_after_the_run(monkeypatch, tmp_path):
    from l2b2_sim.live_view import recording_path_from_env

    monkeypatch.delenv('L2B2_RECORD_MCAP', raising=False)
    assert recording_path_from_env('any') == ''  # nothing is stored unless asked
    monkeypatch.setenv('L2B2_RECORD_MCAP', str(tmp_path))
    monkeypatch.setenv('PYTEST_CURRENT_TEST', 'test/l2b2_x.py::test_y[wc] (call)')
    assert recording_path_from_env() == str(tmp_path / 'test_l2b2_x.py_test_y_wc_.mcap')
    assert recording_path_from_env('nav bench') == str(tmp_path / 'nav_bench.mcap')

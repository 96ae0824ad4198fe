"""A bad panel setting stops the start with a message naming config/panel.yaml and the key (exit 78)."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from l2b2_common.config import ConfigError
from l2b2_common.node_main import EXIT_CONFIG_ERROR


def test_bad_visitor_network_is_a_config_error(panel_factory):
    with pytest.raises(ConfigError) as err:
        panel_factory(visitor_networks=['127.0.0.0/8', '192.168.1.300/24'])
    assert err.value.path == 'config/panel.yaml' and err.value.key.endswith('visitor_networks')
    assert '192.168.1.300/24' in err.value.reason


def test_port_in_use_is_a_config_error(panel_factory):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as err:
            panel_factory(port=port)
    assert err.value.path == 'config/panel.yaml' and 'port' in err.value.key and str(port) in err.value.reason


def test_the_node_exits_78_on_a_bad_visitor_network(tmp_path):
    """The launcher restarts a crashed node but reports a configuration error: it must be exit 78."""
    done = subprocess.run(
        [sys.executable, '-m', 'l2b2_panel.panel_node', '--ros-args', '-p', 'port:=0',
         '-p', f'users_file:={tmp_path}/users.json', '-p', "visitor_networks:=['robot-lan']"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_CONFIG_ERROR, done.stderr
    assert 'config/panel.yaml' in done.stderr and 'visitor_networks' in done.stderr and 'robot-lan' in done.stderr
    assert 'Traceback' not in done.stderr

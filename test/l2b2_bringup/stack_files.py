"""The simulated stack for a test: its description on free ports with state in a temporary folder, the
real launcher started on it, and everything it started stopped afterwards."""
import os
import signal
import socket
import subprocess
import sys

import psutil
import yaml

from l2b2_common.config import config_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_stack_file(tmp_path):
    """config/stack_sim.yaml on free ports with its state in ``tmp_path``; returns (path, panel port)."""
    data = yaml.safe_load(config_path('stack_sim.yaml').read_text())
    panel_port, zms_port = free_port(), free_port()
    for node in data['nodes']:
        if node['name'] == 'appointment_server':
            node['args'] = [*node.get('args', []), '--port', str(zms_port), '--db', str(tmp_path / 'zms.sqlite3')]
        elif node['name'] == 'panel':
            node['parameters'] = {**node.get('parameters', {}), 'port': panel_port}
        elif node['name'] == 'figures':
            node['parameters'] = {**node.get('parameters', {}), 'metrics_port': 0}
        elif node['name'] == 'queue_bridge':
            node['parameters'] = {**node.get('parameters', {}), 'base_url': f'http://127.0.0.1:{zms_port}/'}
    data['env'] = {**data.get('env', {}), 'L2B2_STATE_DIR': str(tmp_path / 'state')}
    data.pop('banner', None)
    path = tmp_path / 'stack_test.yaml'
    path.write_text(yaml.safe_dump(data))
    return path, panel_port


test_stack_file.__test__ = False  # a helper, not a test


def start_launcher(stack_file, log):
    """``l2b2-launch stack_file`` in its own session, output to ``log`` (an open file)."""
    return subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'l2b2-launch'), str(stack_file)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_everything(launcher):
    """Whatever a test left behind: Ctrl-C the launcher, then kill anything it started that survived."""
    if launcher.poll() is not None:
        return
    children = psutil.Process(launcher.pid).children(recursive=True)
    launcher.send_signal(signal.SIGINT)
    try:
        launcher.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass

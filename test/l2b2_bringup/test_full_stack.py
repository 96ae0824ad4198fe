"""The whole simulated stack through the real launcher: every node comes up, scripted visits succeed,
and Ctrl-C stops everything with nothing left running."""
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import yaml

from l2b2_bringup.scenario import load_scenarios
from l2b2_bringup.scenarios_cli import run_scenarios
from l2b2_bringup.stack import load_stack
from l2b2_common.config import REPO_ROOT, config_path

pytestmark = pytest.mark.slow

#: Visits played through the running stack in the test suite (the benchmark plays all of them).
SCENARIOS = ['touch_only_ticket.yaml', 'de_toilet.yaml', 'de_checkin_appointment.yaml', 'de_estop_mid_escort.yaml']


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _test_stack(tmp_path):
    """config/stack_sim.yaml on free ports with its state in a temporary folder."""
    data = yaml.safe_load(config_path('stack_sim.yaml').read_text())
    panel_port, zms_port = _free_port(), _free_port()
    for node in data['nodes']:
        if node['name'] == 'appointment_server':
            node['args'] = [*node.get('args', []), '--port', str(zms_port), '--db', str(tmp_path / 'zms.sqlite3')]
        elif node['name'] == 'panel':
            node['parameters'] = {'port': panel_port}
        elif node['name'] == 'queue_bridge':
            node['parameters'] = {'base_url': f'http://127.0.0.1:{zms_port}/'}
    data['env'] = {**data.get('env', {}), 'L2B2_STATE_DIR': str(tmp_path / 'state')}
    data.pop('banner', None)
    path = tmp_path / 'stack_test.yaml'
    path.write_text(yaml.safe_dump(data))
    return path, panel_port


@pytest.fixture(scope='module')
def running_stack(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('stack')
    path, panel_port = _test_stack(tmp_path)
    log = open(tmp_path / 'launch.log', 'w+')
    launcher = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'l2b2-launch'), str(path)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    stack = {'path': path, 'launcher': launcher, 'log': log, 'panel_port': panel_port, 'tmp': tmp_path}
    try:
        yield stack
    finally:
        _stop_everything(launcher)
        log.close()


def _stop_everything(launcher):
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


def _log_tail(stack, n=60):
    stack['log'].flush()
    lines = (stack['tmp'] / 'launch.log').read_text(errors='replace').splitlines()
    return '\n'.join(lines[-n:])


def test_every_node_of_the_stack_appears_in_the_ros_graph(running_stack, ros):
    expected = {n.name for n in load_stack(running_stack['path']).nodes if n.ros}
    probe = ros.node()
    ros.wait_for(lambda: expected <= set(probe.get_node_names()), timeout=120,
                 what=f'all of {sorted(expected)} in the graph')

    def panel_answers():
        try:
            with socket.create_connection(('127.0.0.1', running_stack['panel_port']), timeout=2):
                return True
        except OSError:
            return False
    ros.wait_for(panel_answers, timeout=60, what='the panel web server on its port')


def test_scripted_visits_succeed_through_the_running_stack(running_stack):
    scenarios = load_scenarios([REPO_ROOT / 'scenarios' / name for name in SCENARIOS])
    results = run_scenarios(scenarios, ready_timeout=120.0)
    failures = [f'{r.name}: {r.failure}' for r in results if not r.success]
    assert not failures, '\n'.join(failures) + '\n--- stack log ---\n' + _log_tail(running_stack)


def test_ctrl_c_stops_everything_cleanly(running_stack):
    launcher = running_stack['launcher']
    children = [p.pid for p in psutil.Process(launcher.pid).children(recursive=True)]
    assert children, 'the launcher started no processes'
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=60) == 0
    deadline = time.monotonic() + 30
    while any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in children):
        assert time.monotonic() < deadline, 'processes left running after Ctrl-C'
        time.sleep(0.1)
    tail = _log_tail(running_stack, 5)
    assert 'stopped:' in tail and all(part.endswith('=0') for part in tail.split('stopped: ')[-1].split(', ')), tail

"""The whole simulated stack through the real launcher: every node comes up, scripted visits succeed,
and Ctrl-C stops everything with nothing left running."""
import signal
import socket
import time

import psutil
import pytest

from l2b2_bringup.scenario import load_scenarios
from l2b2_bringup.scenarios_cli import run_scenarios
from l2b2_bringup.stack import load_stack
from l2b2_common.config import REPO_ROOT

from .stack_files import start_launcher, stop_everything, test_stack_file

pytestmark = pytest.mark.slow

#: Visits played through the running stack in the test suite (the benchmark plays all of them).
SCENARIOS = ['touch_only_ticket.yaml', 'de_toilet.yaml', 'de_checkin_appointment.yaml', 'de_estop_mid_escort.yaml']


@pytest.fixture(scope='module')
def running_stack(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp('stack')
    path, panel_port = test_stack_file(tmp_path)
    log = open(tmp_path / 'launch.log', 'w+')
    launcher = start_launcher(path, log)
    stack = {'path': path, 'launcher': launcher, 'log': log, 'panel_port': panel_port, 'tmp': tmp_path}
    try:
        yield stack
    finally:
        stop_everything(launcher)
        log.close()


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
    log = (running_stack['tmp'] / 'launch.log').read_text(errors='replace')
    flapping = [line for line in log.splitlines() if '; restarting in' in line or 'configuration error' in line]
    assert not flapping, 'nodes crashed or refused their configuration during the run:\n' + '\n'.join(flapping)
    tail = _log_tail(running_stack, 5)
    assert 'stopped:' in tail and all(part.endswith('=0') for part in tail.split('stopped: ')[-1].split(', ')), tail

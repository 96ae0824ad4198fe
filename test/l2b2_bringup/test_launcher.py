"""The launcher on real processes: nodes appear in the ROS graph, crashes restart, Ctrl-C stops all."""
import io
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from l2b2_bringup.stack import load_stack
from l2b2_bringup.supervisor import Backoff, Supervisor
from l2b2_common.config import ConfigError


def _write(tmp_path, text):
    path = tmp_path / 'stack.yaml'
    path.write_text(textwrap.dedent(text))
    return path


def test_stack_description_builds_ros_command_lines(tmp_path):
    stack = load_stack(_write(tmp_path, '''
        stack: t
        parameters: {use_sim_time: true}
        nodes:
          - name: safety_gate
            executable: l2b2-safety-gate
            params: [safety_gate.yaml]
            namespace: robot1
            remappings: {/cmd_vel: /base/cmd_vel}
            parameters: {rate_hz: 50.0}
          - name: server
            executable: l2b2-appointment-server
            ros: false
            args: [--port, 9999]
    '''))
    gate = stack.node('safety_gate').command()
    assert gate[0].endswith('l2b2-safety-gate')
    assert gate[1:] == ['--ros-args', '-r', '__node:=safety_gate', '-r', '__ns:=/robot1',
                        '--params-file', gate[gate.index('--params-file') + 1],
                        '-p', 'use_sim_time:=true', '-p', 'rate_hz:=50.0', '-r', '/cmd_vel:=/base/cmd_vel']
    assert gate[gate.index('--params-file') + 1].endswith('config/safety_gate.yaml')
    assert stack.node('server').command()[1:] == ['--port', '9999']


@pytest.mark.parametrize('body, key', [
    ('nodes: [{name: a, executable: x}]', 'stack'),
    ('stack: s\nnodes: [{name: a, executable: x, params: [nope.yaml]}]', 'nodes[0].params[0]'),
    ('stack: s\nnodes: [{name: a, executable: x}, {name: a, executable: y}]', 'nodes[1].name'),
    ('stack: s\nnodes: [{name: a, executible: x}]', 'nodes[0].executible'),
    ('stack: s\nnodes: [{name: a-b, executable: x}]', 'nodes[0].name'),
])
def test_bad_stack_description_names_file_and_key(tmp_path, body, key):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_stack(path)
    assert err.value.key == key and str(path) in str(err.value)


def _python_stack(tmp_path, script):
    """A one-node stack running a small Python script as a plain process."""
    code = tmp_path / 'child.py'
    code.write_text(textwrap.dedent(script))
    return load_stack(_write(tmp_path, f'''
        stack: t
        nodes:
          - name: child
            executable: {sys.executable}
            ros: false
            args: [{code}]
    '''))


def test_crashed_process_is_restarted_with_backoff(tmp_path):
    marker = tmp_path / 'starts'
    stack = _python_stack(tmp_path, f'''
        import sys
        with open({str(marker)!r}, 'a') as f:
            f.write('x')
        sys.exit(3)
    ''')
    lines = []
    sup = Supervisor(stack, backoff=Backoff(initial_s=0.05, max_s=0.2), log=lines.append, prefix_output=False)
    done = threading.Event()
    runner = threading.Thread(target=lambda: (sup.start(), done.set()))
    runner.start()
    runner.join()
    import time
    deadline = time.monotonic() + 30
    while (not marker.exists() or len(marker.read_text()) < 3) and time.monotonic() < deadline:
        sup.poll()
        time.sleep(0.02)
    sup.stop()
    assert len(marker.read_text()) >= 3, lines
    assert any('exited with 3; restarting' in line for line in lines)


def test_configuration_error_is_reported_not_restarted(tmp_path):
    stack = _python_stack(tmp_path, 'import sys; sys.exit(78)')
    lines = []
    sup = Supervisor(stack, backoff=Backoff(initial_s=0.01), log=lines.append, prefix_output=False)
    sup.start()
    import time
    deadline = time.monotonic() + 30
    while not sup.procs[0].given_up and time.monotonic() < deadline:
        sup.poll()
        time.sleep(0.02)
    sup.stop()
    assert sup.procs[0].restarts == 0
    assert any('configuration error' in line for line in lines)


def test_launcher_brings_up_ros_node_and_ctrl_c_stops_everything(tmp_path, ros):
    """The real console script with a real node: visible in the graph, inline parameters beat the
    parameter file, gone after SIGINT."""
    from rcl_interfaces.srv import GetParameters
    path = _write(tmp_path, '''
        stack: t
        nodes:
          - name: gate_under_test
            executable: l2b2-safety-gate
            params: [safety_gate.yaml]
            parameters: {deadman_timeout_s: 0.7}
    ''')
    launcher = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), 'l2b2-launch'), str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        probe = ros.node()
        ros.wait_for(lambda: 'gate_under_test' in probe.get_node_names(), timeout=30, what='node in the graph')
        client = probe.create_client(GetParameters, '/gate_under_test/get_parameters')
        ros.wait_for(client.service_is_ready, timeout=30, what='parameter service')
        reply = ros.wait_future(client.call_async(GetParameters.Request(names=['deadman_timeout_s', 'rate_hz'])))
        assert [v.double_value for v in reply.values] == [0.7, 20.0]
        launcher.send_signal(signal.SIGINT)
        out, _ = launcher.communicate(timeout=30)
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    assert launcher.returncode == 0, out
    assert 'stopped: gate_under_test=' in out
    ros.wait_for(lambda: 'gate_under_test' not in probe.get_node_names(), timeout=30, what='node gone')


def test_backoff_doubles_up_to_its_cap():
    backoff = Backoff(initial_s=0.5, max_s=4.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_restart_delays_grow_and_reset_once_a_node_ran_stably(tmp_path):
    """poll() is driven with a made-up clock: the delays are the back-off's, and a node that then
    stays up past stable_after_s starts from the initial delay again."""
    import time
    script = tmp_path / 'exit_now'
    script.write_text('1')
    stack = _python_stack(tmp_path, f'''
        import pathlib, sys, time
        if pathlib.Path({str(script)!r}).read_text() == '1':
            sys.exit(3)
        time.sleep(60)
    ''')
    lines = []
    sup = Supervisor(stack, backoff=Backoff(initial_s=1.0, max_s=8.0, stable_after_s=20.0), log=lines.append,
                     prefix_output=False)
    child = sup.procs[0]
    sup.start()
    clock = 1000.0
    try:
        delays = []
        for attempt in range(5):
            child.proc.wait(timeout=30)
            sup.poll(now=clock)
            delays.append(child.next_start - clock)
            clock = child.next_start
            if attempt == 4:
                script.write_text('0')  # the next start stays up
            sup.poll(now=clock)  # restarts it
        assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]
        deadline = time.monotonic() + 30
        while not child.running() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.running() and child.failures == 5
        sup.poll(now=child.started_at + 19.0)
        assert child.failures == 5
        sup.poll(now=child.started_at + 21.0)
        assert child.failures == 0
    finally:
        sup.stop(timeout_s=5.0)


def test_a_node_that_ignores_ctrl_c_is_terminated_then_killed(tmp_path):
    ready = tmp_path / 'ready'
    stack = _python_stack(tmp_path, f'''
        import faulthandler, pathlib, signal, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # as l2b2_common.node_main does
        pathlib.Path({str(ready)!r}).write_text('up')
        while True:
            time.sleep(1)
    ''')
    lines = []
    out = io.StringIO()
    sup = Supervisor(stack, out=out, log=lines.append)
    sup.start()
    import time
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ready.exists()
    codes = sup.stop(timeout_s=0.5)
    assert codes['child'] == -signal.SIGKILL
    assert any('did not stop on SIGINT' in line for line in lines)
    assert any('did not stop on SIGTERM' in line for line in lines)
    # Before the kill it was asked where its threads were: the stack is in the log (the child's sleep loop).
    assert 'child.py' in out.getvalue() and 'Current thread' in out.getvalue(), out.getvalue()

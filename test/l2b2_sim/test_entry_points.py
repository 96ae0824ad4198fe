"""The console scripts start with their checked-in parameter files and serve the contract's topics."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from nav_msgs.msg import OccupancyGrid
import pytest
from rosgraph_msgs.msg import Clock

from l2b2_common.config import REPO_ROOT
from l2b2_common.qos import LATCHED

BIN = os.path.dirname(sys.executable)


def _start(executable: str, params: str) -> subprocess.Popen:
    return subprocess.Popen([os.path.join(BIN, executable), '--ros-args', '--params-file',
                             str(REPO_ROOT / 'config' / params)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())


def test_simulator_and_navigator_start_from_their_params_files(ros):
    procs = [_start('l2b2-simulator', 'simulator.yaml'), _start('l2b2-sim-navigator', 'sim_navigator.yaml')]
    outputs: list[str] = []
    try:
        probe = ros.node('probe')
        clocks, maps = [], []
        probe.create_subscription(Clock, '/clock', clocks.append, 10)
        probe.create_subscription(OccupancyGrid, '/map', maps.append, LATCHED)
        try:
            # Generous: two interpreters import ROS, pybullet and numpy on a loaded 2-core machine.
            ros.wait_for(lambda: clocks and maps or any(p.poll() is not None for p in procs), 120.0,
                         '/clock and /map')
            assert all(p.poll() is None for p in procs), 'a process ended early'
        except (AssertionError, pytest.fail.Exception) as exc:
            outputs = _stop(procs)
            pytest.fail(f'{exc}; got /clock: {bool(clocks)}, /map: {bool(maps)}; output:\n' + '\n---\n'.join(outputs))
    finally:
        if not outputs:
            for p, out in zip(procs, _stop(procs), strict=True):
                assert p.returncode in (0, -signal.SIGINT), out


def _stop(procs: list[subprocess.Popen]) -> list[str]:
    """SIGINT each process (a clean ROS shutdown), kill what hangs; their outputs."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    outputs = []
    for p in procs:
        try:
            out, _ = p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
        outputs.append(f'{p.args[0]} (exit {p.returncode}):\n{out}')
    return outputs

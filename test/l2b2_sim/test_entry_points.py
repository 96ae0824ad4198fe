"""The console scripts start with their checked-in parameter files and serve the contract's topics."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

from nav_msgs.msg import OccupancyGrid
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
    try:
        probe = ros.node('probe')
        clocks, maps = [], []
        probe.create_subscription(Clock, '/clock', clocks.append, 10)
        probe.create_subscription(OccupancyGrid, '/map', maps.append, LATCHED)
        ros.wait_for(lambda: clocks and maps or any(p.poll() is not None for p in procs), 60.0, '/clock and /map')
        assert all(p.poll() is None for p in procs), [p.communicate()[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                out, _ = p.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                out, _ = p.communicate()
            assert p.returncode in (0, -signal.SIGINT), out

"""The e2e benchmark's memory and CPU figures, taken from real processes."""
from __future__ import annotations

import subprocess
import sys
import time

from l2b2_bringup.stack_monitor import StackMonitor


def test_a_stack_of_two_processes_is_measured_by_name_with_shared_pages_counted_once():
    code = 'import sys; big = b"x" * (64 * 2**20); sys.stdin.read()'  # 64 MB of its own, then wait
    procs = {name: subprocess.Popen([sys.executable, '-c', code], stdin=subprocess.PIPE) for name in ('a', 'b')}
    try:
        monitor = StackMonitor(lambda: [(name, p.pid) for name, p in procs.items()])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until both interpreters hold their buffer
            rss, cpu, pss = monitor.sample()
            if all(monitor.peak_rss_by_name.get(n, 0) > 64 for n in procs):
                break
            time.sleep(0.05)
        assert all(monitor.peak_rss_by_name[n] > 64 for n in procs)
        assert rss > 128 and cpu > 0
        # Both run the same interpreter: its shared pages count once in PSS, once per process in RSS.
        assert 128 < pss < rss
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait(timeout=10)

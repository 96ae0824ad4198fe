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
        # (PSS holds the two buffers, less what a loaded machine's kernel swapped out of them.)
        assert 64 < pss < rss
    finally:
        for p in procs.values():
            p.stdin.close()
            p.wait(timeout=10)


def test_cpu_is_counted_per_process_over_a_window_and_a_restarted_process_keeps_its_share():
    """A busy and an idle process: the window's cores per name tell them apart and add up to the total."""
    busy_code = 'import sys, time\nend = time.monotonic() + 60\nwhile time.monotonic() < end and not sys.stdin.closed:\n    pass'
    procs = {'busy': subprocess.Popen([sys.executable, '-c', busy_code], stdin=subprocess.PIPE),
             'idle': subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'], stdin=subprocess.PIPE)}
    try:
        monitor = StackMonitor(lambda: [(name, p.pid) for name, p in procs.items() if p.poll() is None],
                               period_s=0.2).start()
        t0 = time.monotonic()
        deadline = t0 + 60
        while time.monotonic() < deadline and len([s for s in monitor.samples if s[0] >= t0]) < 10:
            time.sleep(0.05)
        by_name = monitor.cores_by_name(since=t0)
        assert by_name['busy'] > 0.2 > by_name['idle']  # one loop on a loaded machine: a good part of a core
        assert abs(sum(by_name.values()) - monitor.cores_used(since=t0)) < 0.05
        # The busy process exits: its CPU so far still counts for its name (a restarted node's old pid).
        before = monitor.cpu_by_name[-1][1]['busy']
        procs['busy'].kill()
        procs['busy'].wait(timeout=10)
        n = len(monitor.samples)
        while time.monotonic() < deadline and len(monitor.samples) < n + 3:
            time.sleep(0.05)
        assert monitor.cpu_by_name[-1][1]['busy'] >= before
        monitor.stop()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait(timeout=10)

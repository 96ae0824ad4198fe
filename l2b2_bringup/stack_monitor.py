"""CPU and memory of a running stack: every process the supervisor started, children included."""
from __future__ import annotations

import threading
import time

import psutil


class StackMonitor:
    """Samples summed RSS and CPU time of a set of root processes (and their children) periodically."""

    def __init__(self, pids_fn, period_s: float = 1.0):
        self._pids_fn = pids_fn
        self._period = period_s
        self.samples: list[tuple[float, float, float]] = []  # (monotonic, rss_mb, cpu_seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._procs: dict[int, psutil.Process] = {}
        self._dead_cpu = 0.0
        self._last_cpu: dict[int, float] = {}

    def start(self) -> StackMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _tree(self) -> list[psutil.Process]:
        procs = []
        for pid in self._pids_fn():
            try:
                root = psutil.Process(pid)
                procs.append(root)
                procs.extend(root.children(recursive=True))
            except psutil.Error:
                continue
        return procs

    def sample(self) -> tuple[float, float]:
        rss, cpu = 0.0, 0.0
        seen = set()
        for p in self._tree():
            try:
                with p.oneshot():
                    rss += p.memory_info().rss
                    t = p.cpu_times()
                    c = t.user + t.system
            except psutil.Error:
                continue
            seen.add(p.pid)
            self._last_cpu[p.pid] = c
            cpu += c
        # CPU time of processes that exited (restarted nodes) still counts.
        for pid in list(self._last_cpu):
            if pid not in seen:
                self._dead_cpu += self._last_cpu.pop(pid)
        return rss / 2**20, cpu + self._dead_cpu

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, cpu = self.sample()
            self.samples.append((time.monotonic(), rss, cpu))
            self._stop.wait(self._period)

    @property
    def peak_rss_mb(self) -> float:
        return max((s[1] for s in self.samples), default=0.0)

    def cores_used(self, since: float | None = None) -> float:
        """Average CPU cores used between the first sample after ``since`` and the last one."""
        window = [s for s in self.samples if since is None or s[0] >= since]
        if len(window) < 2 or window[-1][0] <= window[0][0]:
            return 0.0
        return (window[-1][2] - window[0][2]) / (window[-1][0] - window[0][0])

"""CPU and memory of a running stack: every process the supervisor started, children included.

Memory is reported two ways. The RSS sum counts each shared page (Python, the ROS libraries, DDS)
once per process that maps it, so it overstates what the stack takes. PSS splits each shared page
among the processes that share it: the sum of PSS is the memory the stack really occupies.
"""
from __future__ import annotations

import threading
import time

import psutil


class StackMonitor:
    """Samples summed RSS, PSS and CPU time of named root processes (and their children) periodically."""

    def __init__(self, procs_fn, period_s: float = 1.0):
        """``procs_fn`` returns the running ``(name, pid)`` pairs to watch."""
        self._procs_fn = procs_fn
        self._period = period_s
        self.samples: list[tuple[float, float, float, float]] = []  # (monotonic, rss_mb, cpu_seconds, pss_mb)
        #: Peak RSS per process name (children included), MB.
        self.peak_rss_by_name: dict[str, float] = {}
        #: (monotonic, {name: CPU seconds so far}) per sample: CPU per node over any window.
        self.cpu_by_name: list[tuple[float, dict[str, float]]] = []
        self._dead_cpu_by_name: dict[str, float] = {}
        self._name_of: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._dead_cpu = 0.0
        self._last_cpu: dict[int, float] = {}
        self._by_name_now: dict[str, float] = {}

    def start(self) -> StackMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _tree(self) -> list[tuple[str, psutil.Process]]:
        procs = []
        for name, pid in self._procs_fn():
            try:
                root = psutil.Process(pid)
                procs.append((name, root))
                procs.extend((name, child) for child in root.children(recursive=True))
            except psutil.Error:
                continue
        return procs

    def sample(self) -> tuple[float, float, float]:
        """(RSS MB, CPU seconds so far, PSS MB) of the whole stack now; CPU per name into ``cpu_by_name``."""
        rss, pss, cpu = 0.0, 0.0, 0.0
        by_name: dict[str, float] = {}
        cpu_by_name: dict[str, float] = dict(self._dead_cpu_by_name)
        seen = set()
        for name, p in self._tree():
            try:
                with p.oneshot():
                    mem = p.memory_full_info()
                    t = p.cpu_times()
            except psutil.Error:
                continue
            c = t.user + t.system
            rss += mem.rss
            pss += getattr(mem, 'pss', mem.rss)
            by_name[name] = by_name.get(name, 0.0) + mem.rss / 2**20
            seen.add(p.pid)
            self._last_cpu[p.pid] = c
            self._name_of[p.pid] = name
            cpu_by_name[name] = cpu_by_name.get(name, 0.0) + c
            cpu += c
        for name, mb in by_name.items():
            self.peak_rss_by_name[name] = max(mb, self.peak_rss_by_name.get(name, 0.0))
        # CPU time of processes that exited (restarted nodes) still counts.
        for pid in list(self._last_cpu):
            if pid not in seen:
                gone = self._last_cpu.pop(pid)
                name = self._name_of.pop(pid, '')
                self._dead_cpu += gone
                self._dead_cpu_by_name[name] = self._dead_cpu_by_name.get(name, 0.0) + gone
                cpu_by_name[name] = cpu_by_name.get(name, 0.0) + gone
        self._by_name_now = cpu_by_name
        return rss / 2**20, cpu + self._dead_cpu, pss / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, cpu, pss = self.sample()
            now = time.monotonic()
            self.samples.append((now, rss, cpu, pss))
            self.cpu_by_name.append((now, self._by_name_now))
            self._stop.wait(self._period)

    @property
    def peak_rss_mb(self) -> float:
        return max((s[1] for s in self.samples), default=0.0)

    @property
    def peak_pss_mb(self) -> float:
        return max((s[3] for s in self.samples), default=0.0)

    def pss_mb_between(self, start: float, end: float) -> float | None:
        """Median PSS of the samples taken between two monotonic times: a level, not one reading."""
        window = sorted(s[3] for s in self.samples if start <= s[0] <= end)
        return window[len(window) // 2] if window else None

    def cores_used(self, since: float | None = None, until: float | None = None) -> float:
        """Average CPU cores used between the first sample after ``since`` and the last one before ``until``."""
        window = [s for s in self.samples if (since is None or s[0] >= since) and (until is None or s[0] <= until)]
        if len(window) < 2 or window[-1][0] <= window[0][0]:
            return 0.0
        return (window[-1][2] - window[0][2]) / (window[-1][0] - window[0][0])

    def cores_by_name(self, since: float | None = None, until: float | None = None) -> dict[str, float]:
        """Average CPU cores each process (children included) used in the window, like :meth:`cores_used`."""
        window = [s for s in self.cpu_by_name if (since is None or s[0] >= since) and (until is None or s[0] <= until)]
        if len(window) < 2 or window[-1][0] <= window[0][0]:
            return {}
        (t0, first), (t1, last) = window[0], window[-1]
        return {name: max(0.0, last[name] - first.get(name, 0.0)) / (t1 - t0) for name in last}

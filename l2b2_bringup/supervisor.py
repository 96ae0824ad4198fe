"""Start the stack's processes, restart the ones that crash (with back-off), stop them all cleanly.

This is what ``ros2 launch`` with respawn does on a full ROS 2 install; it is small enough to keep
here because launch_ros is not installable on this platform. No ROS import.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import os
from pathlib import Path
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import TextIO

from l2b2_bringup.stack import NodeSpec, Stack

#: Exit code of a node that refused to start because of its configuration (see l2b2_common.node_main):
#: restarting it would fail the same way, so it is reported and left down.
EXIT_CONFIG_ERROR = 78


@dataclass
class Backoff:
    initial_s: float = 0.5
    max_s: float = 10.0
    #: A node that ran this long without crashing starts again from the initial delay.
    stable_after_s: float = 30.0

    def delay(self, failures: int) -> float:
        return min(self.max_s, self.initial_s * (2 ** max(0, failures - 1)))


class ManagedProcess:
    """One child process and its restart bookkeeping."""

    def __init__(self, spec: NodeSpec, env: dict[str, str]):
        self.spec = spec
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.failures = 0
        self.restarts = 0
        self.next_start: float | None = None
        self.given_up = False
        self._reader: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    """Keeps a stack running. ``poll()`` is called periodically by ``run()`` (or by a test)."""

    def __init__(self, stack: Stack, *, backoff: Backoff | None = None, out: TextIO | None = None,
                 log: Callable[[str], None] | None = None, extra_env: dict[str, str] | None = None,
                 prefix_output: bool = True):
        self.stack = stack
        self.backoff = backoff or Backoff()
        self._out = out
        self._log = log or (lambda line: print(f'[l2b2-launch] {line}', flush=True))
        env = {**os.environ, **stack.env, **(extra_env or {}), 'PYTHONUNBUFFERED': '1'}
        self.procs = [ManagedProcess(spec, {**env, **dict(spec.env)}) for spec in stack.nodes]
        self._prefix_output = prefix_output
        self._params_dir = Path(tempfile.mkdtemp(prefix=f'l2b2-{stack.name}-params-'))
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        for mp in self.procs:
            self._spawn(mp)

    def poll(self, now: float | None = None) -> None:
        """Notice crashed processes and restart them when their back-off has passed."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if self._stopping.is_set():
                return
            for mp in self.procs:
                if mp.proc is not None and mp.proc.poll() is not None and mp.next_start is None and not mp.given_up:
                    self._on_exit(mp, now)
                elif mp.running() and mp.failures and now - mp.started_at > self.backoff.stable_after_s:
                    mp.failures = 0
                if mp.next_start is not None and now >= mp.next_start:
                    mp.next_start = None
                    self._spawn(mp)

    def stop(self, timeout_s: float = 15.0) -> dict[str, int | None]:
        """SIGINT everything (as Ctrl-C would), then SIGTERM, then SIGKILL; returns exit codes."""
        with self._lock:
            self._stopping.set()
        alive = [mp for mp in self.procs if mp.running()]
        for sig, wait_s in ((signal.SIGINT, timeout_s), (signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
            for mp in alive:
                self._signal(mp, sig)
            deadline = time.monotonic() + wait_s
            while alive and time.monotonic() < deadline:
                alive = [mp for mp in alive if mp.running()]
                if alive:
                    time.sleep(0.05)
            if not alive:
                break
            self._log(f'{", ".join(mp.spec.name for mp in alive)} did not stop on {sig.name}')
            if sig == signal.SIGTERM:
                # Before killing: each node prints where its threads are (l2b2_common.node_main) into the log.
                for mp in alive:
                    self._signal(mp, signal.SIGUSR1)
                time.sleep(0.5)
        for mp in self.procs:
            if mp._reader is not None:
                mp._reader.join(timeout=2.0)
        shutil.rmtree(self._params_dir, ignore_errors=True)
        return {mp.spec.name: (mp.proc.returncode if mp.proc else None) for mp in self.procs}

    def run(self, poll_interval_s: float = 0.2, until: Callable[[], bool] | None = None) -> None:
        """Start, supervise until ``until()`` or SIGINT/SIGTERM, then stop everything."""
        stop_requested = threading.Event()

        def request_stop(signum, _frame):
            self._log(f'{signal.Signals(signum).name}: stopping the stack')
            stop_requested.set()

        previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while not stop_requested.is_set() and not (until and until()):
                self.poll()
                stop_requested.wait(poll_interval_s)
        finally:
            codes = self.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)
            self._log('stopped: ' + ', '.join(f'{k}={v}' for k, v in codes.items()))

    # --- internals -----------------------------------------------------------------------------
    def _spawn(self, mp: ManagedProcess) -> None:
        cmd = mp.spec.command(params_dir=self._params_dir)
        try:
            mp.proc = subprocess.Popen(
                cmd, env=mp.env, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if self._prefix_output else None,
                stderr=subprocess.STDOUT if self._prefix_output else None,
                start_new_session=True,  # Ctrl-C reaches only the launcher, which stops children in order
            )
        except OSError as exc:
            self._log(f'{mp.spec.name}: cannot start {cmd[0]}: {exc}')
            mp.given_up = True
            return
        mp.started_at = time.monotonic()
        if self._prefix_output:
            mp._reader = threading.Thread(target=self._pump, args=(mp.spec.name, mp.proc), daemon=True)
            mp._reader.start()
        self._log(f'{mp.spec.name}: started (pid {mp.proc.pid})')

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        out = self._out
        for raw in iter(proc.stdout.readline, b''):
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            text = f'[{name}] {line}' if not line.startswith('[') else line
            if out is None:
                print(text, flush=True)
            else:
                out.write(text + '\n')
                out.flush()
        proc.stdout.close()

    def _on_exit(self, mp: ManagedProcess, now: float) -> None:
        code = mp.proc.returncode
        if code == EXIT_CONFIG_ERROR:
            self._log(f'{mp.spec.name}: configuration error (see its message above); not restarting')
            mp.given_up = True
            return
        if not mp.spec.restart:
            self._log(f'{mp.spec.name}: exited with {code}; restart is off for it')
            mp.given_up = True
            return
        mp.failures += 1
        mp.restarts += 1
        delay = self.backoff.delay(mp.failures)
        self._log(f'{mp.spec.name}: exited with {code}; restarting in {delay:.1f} s (restart #{mp.restarts})')
        mp.next_start = now + delay

    def _signal(self, mp: ManagedProcess, sig: signal.Signals) -> None:
        try:
            os.killpg(mp.proc.pid, sig)  # the whole process group: a node's helpers stop with it
        except ProcessLookupError:
            pass

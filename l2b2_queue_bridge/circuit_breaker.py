"""A circuit breaker, so a dead appointment system is not hammered and callers get an answer at once.

closed: calls go through; ``failure_threshold`` consecutive failures open the circuit.
open: calls are refused immediately until ``reset_timeout_s`` has passed.
half-open: one trial call goes through; success closes the circuit, failure opens it again.
"""
from __future__ import annotations

from collections.abc import Callable
import threading
import time

CLOSED, OPEN, HALF_OPEN = 'closed', 'open', 'half_open'


class CircuitBreaker:
    def __init__(self, failure_threshold: int = 3, reset_timeout_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic):
        if failure_threshold < 1:
            raise ValueError('failure_threshold must be at least 1')
        if reset_timeout_s <= 0:
            raise ValueError('reset_timeout_s must be positive')
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._clock = clock
        self._lock = threading.Lock()
        self._state = CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == OPEN and self._clock() - self._opened_at >= self.reset_timeout_s:
                return HALF_OPEN
            return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def allow(self) -> bool:
        """May a call go out now? In half-open state only one trial call at a time is allowed."""
        with self._lock:
            if self._state == CLOSED:
                return True
            if self._state == OPEN:
                if self._clock() - self._opened_at < self.reset_timeout_s:
                    return False
                self._state = HALF_OPEN
                self._trial_in_flight = False
            if self._trial_in_flight:
                return False
            self._trial_in_flight = True
            return True

    def record_success(self) -> None:
        with self._lock:
            self._state, self._failures, self._trial_in_flight = CLOSED, 0, False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            if self._state == HALF_OPEN or self._failures >= self.failure_threshold:
                self._state = OPEN
                self._opened_at = self._clock()

    def seconds_until_retry(self) -> float:
        with self._lock:
            if self._state != OPEN:
                return 0.0
            return max(0.0, self.reset_timeout_s - (self._clock() - self._opened_at))

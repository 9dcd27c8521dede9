"""Counting wrong verification codes per client, in this process's memory.

Codes are random (60 bits), so guessing is hopeless unless unthrottled; the
store is in memory because a lost count on restart costs nothing. Behind
several worker processes each has its own count: a shared store (the database
or Redis) would be needed to hold the limit exactly.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

_PRUNE_ALL_ABOVE = 1024  # keys; beyond this every failure sweeps out stale clients


class Throttle:
    """Failures per key within a sliding window."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, key: str, *, limit: int, window: float) -> float | None:
        """Seconds until ``key`` may try again, or None if it may try now."""
        now = self._clock()
        with self._lock:
            times = self._recent(key, window, now)
            if len(times) < limit:
                return None
            return times[len(times) - limit] + window - now

    def fail(self, key: str, *, window: float) -> None:
        now = self._clock()
        with self._lock:
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > _PRUNE_ALL_ABOVE:
                for other in list(self._failures):
                    self._recent(other, window, now)

    def _recent(self, key: str, window: float, now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times


def minutes(seconds: float) -> int:
    """Whole minutes to tell the visitor (at least one)."""
    return max(1, math.ceil(seconds / 60))

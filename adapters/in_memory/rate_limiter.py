"""Rate limits in this process's memory: for unit tests, and for a deployment whose broker
is not Redis (then one Beat releases every rate-limited task, so one process is global)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from application.ports import RateLimiter
from domain.flow import RateLimit


class InMemoryRateLimiter(RateLimiter):
    """`seconds` is the clock the buckets run on (monotonic by default; a test's own)."""

    def __init__(self, seconds: Callable[[], float] = time.monotonic) -> None:
        self._seconds = seconds
        self._next_free: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, key: str, limit: RateLimit, count: int, *, horizon: float) -> list[float]:
        with self._lock:
            now = self._seconds()
            delays, self._next_free[key] = limit.reserve(
                self._next_free.get(key, now), now, count, horizon
            )
            return delays

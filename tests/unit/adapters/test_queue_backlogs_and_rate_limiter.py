"""The API's cached reading of the queue backlogs, and the in-memory token bucket."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from adapters.in_memory.rate_limiter import InMemoryRateLimiter
from adapters.queue_backlogs import CachedQueueBacklogs
from application.ports import QueueBacklog
from domain.flow import RateLimit


class Reading:
    def __init__(self) -> None:
        self.reads = 0
        self.done = threading.Event()
        self.fail = False

    def __call__(self) -> dict[str, QueueBacklog]:
        self.reads += 1
        self.done.set()
        if self.fail:
            raise ConnectionError("broker is down")
        return {"default": QueueBacklog(depth=self.reads)}


def arrives(condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def test_a_reading_is_taken_in_the_background_and_only_once_it_is_stale() -> None:
    read, now = Reading(), [0.0]
    backlogs = CachedQueueBacklogs(read, max_age=0.5, seconds=lambda: now[0])

    assert backlogs.latest("default") == QueueBacklog()  # nothing read yet: never waits
    assert read.done.wait(5)
    read.done.clear()
    assert arrives(lambda: backlogs.latest("default") == QueueBacklog(depth=1))
    now[0] = 0.4
    for _ in range(100):
        backlogs.latest("default")
    assert read.reads == 1

    now[0] = 1.0
    backlogs.latest("default")
    assert read.done.wait(5)


def test_a_failed_reading_keeps_the_last_one() -> None:
    read, now = Reading(), [0.0]
    backlogs = CachedQueueBacklogs(read, max_age=0.5, seconds=lambda: now[0])
    backlogs.refresh()
    read.fail = True

    now[0] = 1.0
    backlogs.refresh()

    assert backlogs.latest("default") == QueueBacklog(depth=1)


def test_one_bucket_per_key_shared_by_every_caller() -> None:
    now = [10.0]
    limiter = InMemoryRateLimiter(lambda: now[0])
    limit = RateLimit.parse("2/s")

    first = limiter.reserve("call_api", limit, 3, horizon=1.0)
    second = limiter.reserve("call_api", limit, 3, horizon=1.0)
    other = limiter.reserve("other", limit, 1, horizon=1.0)

    assert (first, second, other) == ([0.0, 0.5, 1.0], [], [0.0])

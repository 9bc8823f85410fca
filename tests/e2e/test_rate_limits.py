"""A task type's rate limit on a real API, Beat and two workers: 100 tasks of a 10/s type
are released evenly, one every 0.1 s whichever worker runs them, and none fails for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tests.e2e.api_client import ApiClient
from tests.e2e.stack import Stack

TASKS = 100
RATE_PER_SECOND = 10  # tests/e2e/task_types.py: rate_limited
EXPECTED_SECONDS = TASKS / RATE_PER_SECOND
RUN_TIMEOUT = 60.0


def test_a_hundred_tasks_of_a_10_per_second_type_take_10_seconds_across_two_workers(
    stack: Stack, client: ApiClient, record_timing: Callable[[str, float], None]
) -> None:
    stack.start_worker(concurrency=2)  # a second worker beside the stack's own
    tasks = [client.submit("rate_limited") for _ in range(TASKS)]

    waiting = client.task(tasks[-1]["id"])["waiting"]
    done = [client.wait_for_status(t["id"], "completed", timeout=RUN_TIMEOUT) for t in tasks]

    starts = sorted(datetime.fromisoformat(t["started_at"]) for t in done)
    ends = sorted(datetime.fromisoformat(t["completed_at"]) for t in done)
    took = (ends[-1] - starts[0]).total_seconds()
    record_timing(f"{TASKS} tasks at {RATE_PER_SECOND}/s, first start to last end", took)
    assert waiting is None or waiting["reason"] in ("rate_limit", "queued")
    assert {t["attempts"] for t in done} == {1}  # delayed, never failed nor retried
    assert len({t["result"]["worker"] for t in done}) == 2
    # The bound: 10 s +- 10%. Single starts jitter by the broker's delivery of
    # each countdown, so no tighter window is asserted.
    assert 0.9 * EXPECTED_SECONDS <= took <= 1.1 * EXPECTED_SECONDS

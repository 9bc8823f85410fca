"""A worker told to stop (SIGTERM: a scale-down, a rolling update) while busy finishes the
task it runs, and leaves the one it holds but has not started to another worker: nothing is
lost, nothing is cut off mid-run."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.broker import leased_redis_database
from tests.e2e.stack import Stack
from tests.support.databases import migrated_database

RUN_TIMEOUT = 30.0
BUSY_SECONDS = 4.0


@pytest.fixture
def stack(redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    with (
        migrated_database("sqlite", tmp_path) as database_url,
        leased_redis_database(redis_url) as broker_url,
    ):
        started = Stack(database_url=database_url, broker_url=broker_url, directory=tmp_path)
        try:
            started.start_api()
            yield started
        finally:
            started.stop()


def test_a_busy_worker_stopped_with_sigterm_finishes_its_run_and_loses_no_task(
    stack: Stack,
) -> None:
    worker = stack.start_worker(concurrency=1)
    with stack.client().sign_up() as client:
        busy = client.submit("stubborn_sleep", seconds=BUSY_SECONDS)
        client.wait_for_status(busy["id"], "running", timeout=RUN_TIMEOUT)
        # Queued behind it: the worker has it prefetched, or it waits on the broker.
        behind = client.submit("noop")
        time.sleep(0.5)

        worker.send_signal(signal.SIGTERM)
        worker.wait_for_exit(timeout=BUSY_SECONDS + RUN_TIMEOUT)

        # The run under way was not cut off: it completed, on its first attempt.
        finished = client.task(busy["id"])
        assert (finished["status"], finished["attempts"]) == ("completed", 1)
        # The one it had not started is not lost: still pending (back on the broker), and
        # the next worker runs it.
        assert client.task(behind["id"])["status"] in ("pending", "completed")
        stack.start_worker(concurrency=1)
        done = client.wait_for_status(behind["id"], "completed", timeout=RUN_TIMEOUT)
        assert done["attempts"] == 1

"""Messages that vanish while their tasks stay pending and dispatched: held by a worker killed
with kill -9 (a retry's ETA it was waiting for, a message received but not yet claimed), or a
queue deleted from Redis while the broker's epoch key survives. The overdue sweep publishes
them again within TASKHUB_OVERDUE_AFTER_SECONDS (3 s here) plus a relay interval, instead of
Redis' visibility timeout (70 min) or never.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.e2e.api_client import ApiClient, wait_until
from tests.e2e.stack import SHORT_TIMINGS
from tests.faults.conftest import RecordFigures
from tests.faults.journal import Journal
from tests.faults.stack import FaultStack, settled, sqlite_fault_stack, submit_batch
from tests.faults.task_types import FLAKY_BACKOFF_SECONDS
from tests.support.redis_server import RedisServer

OVERDUE_AFTER = 3.0
RELAY_INTERVAL = float(SHORT_TIMINGS["TASKHUB_RELAY_INTERVAL_SECONDS"])
# The bound the sweep promises, and a margin for two cores starting a worker.
RECOVERY_BOUND = OVERDUE_AFTER + RELAY_INTERVAL + 10.0


@pytest.fixture
def stack(redis_server: RedisServer, tmp_path: Path) -> Iterator[FaultStack]:
    with sqlite_fault_stack(broker_url=redis_server.url, directory=tmp_path, concurrency=1) as s:
        yield s


@pytest.fixture
def client(stack: FaultStack) -> Iterator[ApiClient]:
    with stack.client().sign_up() as api:
        yield api


def kill_worker(stack: FaultStack) -> None:
    """kill -9 of the worker's main process and its pool: nothing acknowledges anything."""
    assert stack.worker is not None
    stack.worker.kill_group()
    wait_until(lambda: not stack.worker or not stack.worker.running, timeout=10, what="death")


def test_a_retry_held_as_an_eta_by_a_killed_worker_runs_within_the_sweep_bound(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    task = client.submit("journaled_flaky", journal=str(journal.path))
    client.wait_for(
        task["id"],
        lambda t: t["status"] == "pending" and t["attempts"] == 1,
        timeout=30,
        what="the first attempt to fail and wait for its retry",
    )
    time.sleep(1)  # the retry's message is now an ETA the worker holds, unacknowledged

    kill_worker(stack)
    killed = time.monotonic()
    stack.start_worker(concurrency=1)
    done = client.wait_for_status(
        task["id"], "completed", timeout=FLAKY_BACKOFF_SECONDS + RECOVERY_BOUND + 20
    )
    recovery = time.monotonic() - killed

    figures(
        submitted=1,
        completed=1,
        lost=0,
        duplicates=max(journal.completions()[task["id"]] - 1, 0),
        recovery_seconds=recovery,
        bound_seconds=FLAKY_BACKOFF_SECONDS + RECOVERY_BOUND,
    )
    assert done["attempts"] == 2
    assert journal.completions()[task["id"]] == 1
    # Due FLAKY_BACKOFF_SECONDS after the first attempt, then swept: not 70 minutes.
    assert recovery < FLAKY_BACKOFF_SECONDS + RECOVERY_BOUND


def test_a_message_received_but_not_yet_claimed_by_a_killed_worker_runs_within_the_bound(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    assert stack.worker is not None
    stack.worker.stop()
    task = client.submit("journaled_sleep", journal=str(journal.path))["id"]
    lock = sqlite3.connect(stack.database_url.removeprefix("sqlite:///"), isolation_level=None)
    # Its message is out and recorded as such: the relay has nothing to publish again.
    wait_until(
        lambda: lock.execute("SELECT count(*) FROM tasks WHERE dispatched").fetchone()[0] == 1,
        timeout=10,
        what="the publish to be recorded",
    )
    try:
        lock.execute("BEGIN IMMEDIATE")  # the claim waits on it: received, not claimed
        receiving = stack.start_worker(concurrency=1)
        receiving.wait_for_log(r"database is locked.*retrying in", timeout=30)
        kill_worker(stack)
        killed = time.monotonic()
    finally:
        lock.close()  # rolls back: writes go through again

    stack.start_worker(concurrency=1)
    done = client.wait_for_status(task, "completed", timeout=RECOVERY_BOUND + 20)
    recovery = time.monotonic() - killed

    figures(
        submitted=1,
        completed=1,
        lost=0,
        duplicates=max(journal.completions()[task] - 1, 0),
        recovery_seconds=recovery,
        bound_seconds=RECOVERY_BOUND,
    )
    assert done["attempts"] == 1
    assert journal.completions()[task] == 1
    assert recovery < RECOVERY_BOUND


def test_a_queue_deleted_from_redis_is_recovered_by_the_sweep(
    stack: FaultStack,
    client: ApiClient,
    redis_server: RedisServer,
    journal: Journal,
    figures: RecordFigures,
) -> None:
    assert stack.worker is not None
    stack.worker.stop()  # nobody consumes: the messages wait in their queue
    ids = submit_batch(client, "journaled_sleep", 100, journal=str(journal.path))
    broker = redis.Redis.from_url(redis_server.url)
    wait_until(lambda: broker.llen("default") == 100, timeout=10, what="100 messages queued")

    broker.delete("default")  # the epoch key survives: the relay sees nothing wrong
    deleted = time.monotonic()
    stack.start_worker(concurrency=2)
    tasks = settled(client, ids, timeout=RECOVERY_BOUND + 60)
    recovery = time.monotonic() - deleted

    completions = journal.completions()
    completed = [t for t in tasks.values() if t["status"] == "completed"]
    assert stack.beat is not None
    republished = sum(
        int(n) for n in re.findall(r"published (\d+) overdue task", stack.beat.log_text())
    )
    figures(
        submitted=len(ids),
        completed=len(completed),
        lost=len(ids) - len(completed),
        duplicates=sum(max(c - 1, 0) for c in completions.values()),
        republished_by_the_sweep=republished,
        recovery_seconds=recovery,
    )
    assert len(completed) == len(ids)
    assert all(completions[task_id] == 1 for task_id in ids)

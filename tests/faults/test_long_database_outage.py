"""Database outages longer than every retry budget of the worker: PostgreSQL stopped for 40 s,
and an SQLite write lock held for 75 s (as a VACUUM or a bulk import would), each while a
batch of tasks is running and waiting. A first worker is busy writing outcomes through the
outage; a second one, started during it, takes messages it cannot claim. Every acknowledged
task completes, once.

Before: a claim gave up after about 16 s and its message was acknowledged, stranding the task
pending for good; an outcome write gave up after 15.75 s, so the computed result was lost and
the task ran again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from adapters.sqlalchemy.migrate import upgrade_database
from tests.e2e.api_client import wait_until
from tests.faults.conftest import RecordFigures
from tests.faults.journal import Journal
from tests.faults.postgres_cluster import PostgresCluster, unavailable_reason
from tests.faults.stack import FaultStack, fault_stack, settled, sqlite_fault_stack, submit_batch
from tests.support.redis_server import RedisServer

OUTAGE_SECONDS = 40.0  # longer than the claim's budget (12.75 s) and the old outcome one (15.75 s)
# The write lock that ran two tasks twice before: longer than the reaper's stale_after many
# times over, while its reads go on.
WRITE_LOCK_SECONDS = 75.0
TASKS = 60
RUN_SECONDS = 0.5
SETTLE_TIMEOUT = 120.0


def run_through_an_outage(
    stack: FaultStack,
    journal: Journal,
    figures: RecordFigures,
    *,
    outage: Callable[[], AbstractContextManager[None]],
    seconds: float = OUTAGE_SECONDS,
) -> int:
    """Returns how many claims the second worker sent back to the queue."""
    with stack.client().sign_up() as client:
        ids = submit_batch(
            client, "journaled_sleep", TASKS, journal=str(journal.path), seconds=RUN_SECONDS
        )
        wait_until(lambda: len(journal.starts()) >= 4, timeout=30, what="the first runs to start")
        with outage():
            down = time.monotonic()
            late_worker = stack.start_worker(concurrency=2)
            time.sleep(max(0.0, seconds - (time.monotonic() - down)))
        up = time.monotonic()
        tasks = settled(client, ids, timeout=SETTLE_TIMEOUT)
        recovery = time.monotonic() - up

        completions = journal.completions()
        completed = [t for t in tasks.values() if t["status"] == "completed"]
        duplicates = sum(max(count - 1, 0) for count in completions.values())
        assert stack.beat is not None
        requeued = late_worker.log_text().count("back to the queue")
        figures(
            submitted=len(ids),
            completed=len(completed),
            lost=len(ids) - len(completed),
            duplicates=duplicates,
            outage_seconds=up - down,
            recovery_seconds=recovery,
            claims_requeued=requeued,
        )
        assert len(completed) == len(ids), [t for t in tasks.values() if t["status"] != "completed"]
        assert duplicates == 0, completions
        assert all(completions[task_id] == 1 for task_id in ids)
        # Nothing was taken back or run again: one attempt each.
        assert {t["attempts"] for t in completed} == {1}
        # The outage is logged with its cause, and Beat logs it without a traceback per run.
        assert "the database is unavailable (" in late_worker.log_text()
        assert "Traceback" not in stack.beat.log_text()
        assert "skipped: the database is unavailable" in stack.beat.log_text()
        return requeued


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[PostgresCluster]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with PostgresCluster() as started:
        upgrade_database(started.url)
        yield started


def test_a_postgresql_outage_longer_than_every_retry_budget_loses_and_repeats_nothing(
    cluster: PostgresCluster,
    redis_server: RedisServer,
    tmp_path: Path,
    journal: Journal,
    figures: RecordFigures,
) -> None:
    @contextmanager
    def stopped() -> Iterator[None]:
        cluster.stop("fast")
        try:
            yield
        finally:
            cluster.start()

    with fault_stack(
        database_url=cluster.url, broker_url=redis_server.url, directory=tmp_path
    ) as stack:
        requeued = run_through_an_outage(stack, journal, figures, outage=stopped)

    # Claims refused for longer than their budget went back to the broker, not lost.
    assert requeued > 0


def test_an_sqlite_write_lock_longer_than_every_retry_budget_loses_and_repeats_nothing(
    redis_server: RedisServer, tmp_path: Path, journal: Journal, figures: RecordFigures
) -> None:
    with sqlite_fault_stack(broker_url=redis_server.url, directory=tmp_path) as stack:
        database = stack.database_url.removeprefix("sqlite:///")

        @contextmanager
        def locked() -> Iterator[None]:
            # What VACUUM or a long import does: one writer holds the lock, readers go on.
            connection = sqlite3.connect(database, isolation_level=None)
            try:
                connection.execute("BEGIN IMMEDIATE")
                yield
                connection.execute("ROLLBACK")
            finally:
                connection.close()

        run_through_an_outage(stack, journal, figures, outage=locked, seconds=WRITE_LOCK_SECONDS)

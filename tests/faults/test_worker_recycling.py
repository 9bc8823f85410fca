"""Worker pool processes are replaced before a leaking task grows them without bound: after
TASKHUB_WORKER_MAX_MEMORY_PER_CHILD_MB of resident memory, or after
TASKHUB_WORKER_MAX_TASKS_PER_CHILD runs. Every task still completes, once.

Before, a task keeping 50 MB per run grew a pool process from 158 to 312 MB over 8 runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import RecordFigures
from tests.faults.journal import Journal
from tests.faults.stack import FaultStack, settled, submit_batch
from tests.faults.task_types import LEAK_MB
from tests.support.databases import migrated_database
from tests.support.redis_server import RedisServer

RUNS = 6
# A pool process starts at about 100 MB: two leaks take it past this.
MEMORY_LIMIT_MB = 100 + LEAK_MB + LEAK_MB // 2


@pytest.fixture
def stack(redis_server: RedisServer, tmp_path: Path) -> Iterator[FaultStack]:
    with migrated_database("sqlite", tmp_path) as database_url:
        started = FaultStack(
            database_url=database_url, broker_url=redis_server.url, directory=tmp_path
        )
        try:
            started.start_api()
            yield started
        finally:
            started.stop()


def run_one_after_another(
    stack: FaultStack, journal: Journal, task_type: str, **limits: str
) -> tuple[set[int], dict[str, int], list[Any]]:
    """RUNS tasks on a worker of one pool process with `limits`; the pool's pids, how often
    each task completed, and the runs' results in the order they ran."""
    stack.start_worker(concurrency=1, **limits)
    with stack.client().sign_up() as client:
        ids = submit_batch(client, task_type, RUNS, journal=str(journal.path))
        tasks = settled(client, ids, timeout=120)
    assert {t["status"] for t in tasks.values()} == {"completed"}, tasks
    completions = journal.completions()
    in_order = sorted(tasks.values(), key=lambda t: t["completed_at"])
    return (
        {e.pid for e in journal.events()},
        {task_id: completions[task_id] for task_id in ids},
        [t["result"] for t in in_order],
    )


def test_a_pool_process_past_its_memory_limit_is_replaced_after_its_run(
    stack: FaultStack, journal: Journal, figures: RecordFigures
) -> None:
    pids, completions, results = run_one_after_another(
        stack,
        journal,
        "journaled_leak",
        TASKHUB_WORKER_MAX_MEMORY_PER_CHILD_MB=str(MEMORY_LIMIT_MB),
        TASKHUB_WORKER_MAX_TASKS_PER_CHILD="0",
    )

    figures(
        runs=RUNS,
        leaked_mb_per_run=LEAK_MB,
        limit_mb=MEMORY_LIMIT_MB,
        pool_processes=len(pids),
        duplicates=sum(c - 1 for c in completions.values()),
        rss_mb_first_run_before=results[0]["rss_mb_before"],
        rss_mb_after_each_run="/".join(str(r["rss_mb_after"]) for r in results),
        rss_mb_largest=max(r["rss_mb_after"] for r in results),
    )
    # At most two leaks per process before it is replaced: at least three processes.
    assert len(pids) >= RUNS // 2
    assert set(completions.values()) == {1}


def test_a_pool_process_is_replaced_after_its_quota_of_runs(
    stack: FaultStack, journal: Journal, figures: RecordFigures
) -> None:
    pids, completions, _ = run_one_after_another(
        stack,
        journal,
        "journaled_sleep",
        TASKHUB_WORKER_MAX_TASKS_PER_CHILD="2",
        TASKHUB_WORKER_MAX_MEMORY_PER_CHILD_MB="0",
    )

    figures(runs=RUNS, runs_per_process=2, pool_processes=len(pids))
    assert len(pids) == RUNS // 2
    assert set(completions.values()) == {1}

"""Fair sharing on a real API, Beat and worker: one user's backlog of thousands does not
keep another user's single task waiting behind it, and tasks held back for fair sharing
that are cancelled, or whose predecessors' worker is killed, leave nothing stuck.

Before: B's task waited behind A's whole backlog (every message already on the broker).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.e2e.api_client import ApiClient, wait_until
from tests.faults.conftest import RecordFigures
from tests.faults.stack import FaultStack, settled, submit_batch
from tests.support.databases import database_backends, migrated_database
from tests.support.redis_server import RedisServer

BACKLOG = 5_000
BATCH = 500
# The bound on B's start: from B's submission to its run's start.
B_STARTS_WITHIN_SECONDS = 2.0


@pytest.fixture(params=database_backends())
def stack(
    request: pytest.FixtureRequest, redis_server: RedisServer, tmp_path: Path
) -> Iterator[FaultStack]:
    with migrated_database(request.param, tmp_path) as database_url:
        started = FaultStack(
            database_url=database_url, broker_url=redis_server.url, directory=tmp_path
        )
        try:
            started.start_api(
                TASKHUB_MAX_ACTIVE_TASKS_PER_USER=str(2 * BACKLOG), TASKHUB_FAIR_SHARE="true"
            )
            started.start_beat()
            started.start_worker(concurrency=2)
            yield started
        finally:
            started.stop()


def started_at(client: ApiClient, task_id: str) -> datetime:
    task = client.wait_for(task_id, lambda t: bool(t["started_at"]), timeout=120, what="to start")
    return datetime.fromisoformat(task["started_at"])


def test_a_single_task_of_another_user_starts_within_2_s_of_a_5000_task_backlog(
    stack: FaultStack, figures: RecordFigures
) -> None:
    with stack.client().sign_up() as alice, stack.client().sign_up() as bob:
        began = time.monotonic()
        alices: list[str] = []
        for _ in range(BACKLOG // BATCH):
            alices += submit_batch(alice, "noop", BATCH)
        submitted_in = time.monotonic() - began
        (bobs,) = submit_batch(bob, "noop", 1)
        created = datetime.fromisoformat(bob.task(bobs)["created_at"])
        delay = (started_at(bob, bobs) - created).total_seconds()
        alices_last = alice.task(alices[-1])
        alices_middle = alice.task(alices[BACKLOG // 2])

    figures(
        backlog=BACKLOG,
        backlog_submitted_seconds=submitted_in,
        b_start_delay_seconds=delay,
        alices_last_waiting=str((alices_last["waiting"] or {}).get("reason")),
    )
    # B overtook the backlog: half of A's tasks had not even started when B's did.
    assert alices_middle["status"] == "pending"
    assert alices_last["status"] == "pending"
    assert delay < B_STARTS_WITHIN_SECONDS


def test_held_tasks_cancelled_or_behind_a_killed_run_leave_nothing_held(
    stack: FaultStack, figures: RecordFigures
) -> None:
    with stack.client().sign_up() as alice, stack.client().sign_up() as bob:
        crashing = submit_batch(alice, "crash_once", 2)  # kills its pool process once
        backlog = submit_batch(alice, "noop", 200)
        cancelled = [alice.cancel(task_id)["id"] for task_id in backlog[-20:]]
        (bobs,) = submit_batch(bob, "noop", 1)

        tasks = settled(alice, crashing + backlog, timeout=180)
        bob_done = bob.wait_for_status(bobs, "completed", timeout=60)

        statuses = {t["status"] for tid, t in tasks.items() if tid not in cancelled}
        assert statuses == {"completed"}
        assert {tasks[tid]["status"] for tid in cancelled} == {"cancelled"}
        assert {tasks[tid]["attempts"] for tid in crashing} == {2}  # reaped, then run again
        assert bob_done["attempts"] == 1
        # Nothing stays held: every held task was released or cancelled.
        wait_until(
            lambda: all(t["waiting"] is None for t in (alice.task(i) for i in backlog[-25:])),
            timeout=10,
            what="no task to be held",
        )
    figures(crashed=len(crashing), cancelled_while_held=len(cancelled), completed=180 + 2)

"""Workers that die or misbehave: pool processes killed mid-task again and again, a whole
worker killed, a task that kills its own process, a task past its hard time limit, and a
pickle message. One stack (SQLite, a Redis of the module's own) serves the module.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.api_client import TERMINAL, ApiClient, wait_until
from tests.e2e.test_task_lifecycle import (
    _CreatesFile,
    _publish_pickled,
    _stored_pending_task,
)
from tests.faults.conftest import RecordFigures
from tests.faults.journal import Event, Journal
from tests.faults.stack import (
    FaultStack,
    kill_pool_child,
    pool_children,
    settled,
    sqlite_fault_stack,
)
from tests.faults.task_types import OVERRUN_TIME_LIMIT_SECONDS
from tests.support.redis_server import RedisServer

CONCURRENCY = 2
SETTLE_TIMEOUT = 60.0
BATCH = 20
KILLS = 20


@pytest.fixture(scope="module")
def stack(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    directory = tmp_path_factory.mktemp("worker-faults")
    with sqlite_fault_stack(
        broker_url=redis_server.url, directory=directory, concurrency=CONCURRENCY
    ) as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: FaultStack) -> Iterator[ApiClient]:
    with stack.client().sign_up() as api:
        yield api


def test_pool_processes_killed_twenty_times_mid_task_leave_every_task_settled_once(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    rng = random.Random(20)
    durations = {}
    for _ in range(BATCH):
        seconds = round(rng.uniform(1.0, 1.5), 2)
        task = client.submit("journaled_sleep", journal=str(journal.path), seconds=seconds)
        durations[task["id"]] = seconds
    worker = stack.worker
    assert worker is not None

    killed: list[Event] = []
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while len(killed) < KILLS:
        assert time.monotonic() < deadline, f"only {len(killed)} kills in time"
        # Mid-run only: a kill between the journal's "done" and the stored completion would
        # look like a second completion when the task runs again.
        candidates = [
            run
            for run in journal.unfinished_runs()
            if run not in killed and 0.2 < time.time() - run.at < durations[run.task_id] - 0.3
        ]
        if candidates:
            run = rng.choice(candidates)
            if kill_pool_child(worker, run.pid):
                killed.append(run)
                time.sleep(rng.uniform(0.1, 0.4))
                continue
        time.sleep(0.05)
    last_kill = time.monotonic()

    tasks = settled(client, list(durations), timeout=SETTLE_TIMEOUT)
    recovery = time.monotonic() - last_kill

    starts, completions = journal.starts(), journal.completions()
    completed = [t for t in tasks.values() if t["status"] == "completed"]
    failed = [t for t in tasks.values() if t["status"] == "failed"]
    duplicates = sum(max(count - 1, 0) for count in completions.values())
    figures(
        submitted=len(tasks),
        kills=len(killed),
        runs=sum(starts.values()),
        completed=len(completed),
        failed=len(failed),
        lost=len(tasks) - len(completed) - len(failed),
        duplicates=duplicates,
        recovery_seconds=recovery,
    )
    assert worker.running, "the worker's main process died with its pool processes"
    assert len(completed) + len(failed) == len(tasks), tasks
    assert duplicates == 0, completions
    for task in completed:
        assert completions[task["id"]] == 1, task
        assert task["result"]["attempt"] == task["attempts"] == starts[task["id"]], task
    for task in failed:  # killed on every one of its attempts
        assert task["error"]["type"] == "WorkerLostError", task
        assert task["attempts"] == task["max_attempts"] == starts[task["id"]], task
        assert completions[task["id"]] == 0, task
    # Every kill ends a run, and each but a task's last is followed by another run.
    assert sum(starts.values()) == len(tasks) + len(killed) - len(failed), starts


def test_a_worker_killed_whole_mid_task_is_replaced_and_its_tasks_complete_in_seconds(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    ids = [
        client.submit("journaled_sleep", journal=str(journal.path), seconds=1.5)["id"]
        for _ in range(2 * CONCURRENCY)
    ]
    wait_until(
        lambda: len(journal.unfinished_runs()) == CONCURRENCY,
        timeout=20,
        what="every pool process to be running a task",
    )
    interrupted = {run.task_id for run in journal.unfinished_runs()}
    lost = stack.worker
    assert lost is not None

    lost.kill_group()
    killed = time.monotonic()
    wait_until(
        lambda: not lost.living_group_members(), timeout=5, what="the worker's processes to die"
    )
    replacement = stack.start_worker(concurrency=CONCURRENCY)
    tasks = settled(client, ids, timeout=SETTLE_TIMEOUT)
    recovery = time.monotonic() - killed

    completed = [t for t in tasks.values() if t["status"] == "completed"]
    completions = journal.completions()
    figures(
        submitted=len(ids),
        interrupted=len(interrupted),
        completed=len(completed),
        failed=len(tasks) - len(completed),
        lost=sum(t["status"] not in TERMINAL for t in tasks.values()),
        duplicates=sum(max(n - 1, 0) for n in completions.values()),
        recovery_seconds=recovery,
    )
    assert len(completed) == len(ids), tasks
    for task in completed:
        assert completions[task["id"]] == 1, task
        assert task["attempts"] == (2 if task["id"] in interrupted else 1), task
    new_pids = set(replacement.living_group_members())
    assert {e.pid for e in journal.events() if e.kind == "done"} <= new_pids
    # Re-queued by the heartbeat reaper in Beat, not after the broker's visibility timeout
    # (an hour and more): the stale-after (3 s) plus a reap interval, a worker start, two runs.
    assert recovery < 30.0


def test_a_task_that_kills_its_own_process_stops_after_its_max_attempts(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    task = client.submit("journaled_crash", journal=str(journal.path))
    submitted = time.monotonic()

    done = client.wait_for_status(task["id"], "failed", timeout=SETTLE_TIMEOUT)
    failed_after = time.monotonic() - submitted
    # No endless loop: nothing runs it again (Celery requeues each lost message; those
    # copies find the task not pending and are acknowledged without running).
    time.sleep(3.0)
    runs = journal.starts()[task["id"]]

    figures(
        submitted=1,
        runs=runs,
        max_attempts=done["max_attempts"],
        failed=1,
        lost=0,
        duplicates=0,
        recovery_seconds=failed_after,
    )
    assert done["attempts"] == done["max_attempts"] == 3
    assert runs == 3
    assert done["error"]["type"] == "WorkerLostError"
    assert client.task(task["id"])["status"] == "failed"


def test_a_task_past_its_hard_time_limit_fails_saying_so_and_its_process_is_replaced(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    worker = stack.worker
    assert worker is not None
    task = client.submit("journaled_overrun", journal=str(journal.path), seconds=10)
    submitted = time.monotonic()

    done = client.wait_for(
        task["id"], lambda t: t["status"] in TERMINAL, timeout=20, what="to settle"
    )
    settled_after = time.monotonic() - submitted
    runs = [e for e in journal.events() if e.task_id == task["id"]]
    wait_until(
        lambda: (
            len(pool_children(worker)) == CONCURRENCY
            and not {e.pid for e in runs} & pool_children(worker)
        ),
        timeout=10,
        what="the pool to replace the killed process",
    )
    after = client.submit("journaled_sleep", journal=str(journal.path), seconds=0)
    client.wait_for_status(after["id"], "completed", timeout=20)

    figures(
        submitted=2,
        runs=len(runs),
        failed=int(done["status"] == "failed"),
        completed=1,
        lost=0,
        duplicates=0,
        recovery_seconds=settled_after,
    )
    assert done["status"] == "failed", done
    assert done["error"]["type"] == "TimeLimitExceeded", done
    assert f"({OVERRUN_TIME_LIMIT_SECONDS:g}s)" in done["error"]["message"], done
    assert done["attempts"] == 1, done
    assert [e.kind for e in runs] == ["start"], runs
    # The limit, the pool's timer (about a second) and the write: not the reaper's retries.
    assert settled_after < OVERRUN_TIME_LIMIT_SECONDS + 4


def test_a_pickle_message_is_refused_and_the_worker_goes_on_consuming(
    stack: FaultStack, client: ApiClient, tmp_path: Path, figures: RecordFigures
) -> None:
    """A variant of tests/e2e/test_task_lifecycle.py's pickle test: also the same worker,
    with the same pool processes, runs what comes next."""
    worker = stack.worker
    assert worker is not None
    processes_before = set(worker.living_group_members())
    pending = _stored_pending_task(stack.database_url, owner=client.user_id)
    unpickled = tmp_path / "unpickled"

    _publish_pickled(stack.broker_url, "taskhub.noop", pending, _CreatesFile(unpickled))
    behind = client.submit("noop")
    client.wait_for_status(behind["id"], "completed", timeout=20)

    worker.wait_for_log(
        rf"(?s)ContentDisallowed.*{pending}|{pending}.*ContentDisallowed", timeout=5
    )
    untouched = client.task(pending)
    figures(submitted=2, completed=1, refused=1, lost=0, duplicates=0)
    assert untouched["status"] == "pending"
    assert untouched["attempts"] == 0
    assert not unpickled.exists(), "the worker unpickled the message body"
    assert worker.running
    assert set(worker.living_group_members()) == processes_before

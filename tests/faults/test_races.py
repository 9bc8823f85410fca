"""Races a deployment meets every day: a cancel against the run's completion, and the same
message delivered to two workers. Two workers of two processes each, one API, Beat, SQLite.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.api_client import TERMINAL, ApiClient, wait_until
from tests.faults.conftest import RecordFigures
from tests.faults.journal import Journal
from tests.faults.stack import (
    FaultStack,
    every_task,
    publish_copies,
    sqlite_fault_stack,
)
from tests.support.redis_server import RedisServer

WORKERS = 2
CANCEL_RACES = 500
PARALLEL_FLOWS = 8


@pytest.fixture(scope="module")
def stack(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    directory = tmp_path_factory.mktemp("races")
    # The tests read each delivery and each completion from the workers' logs: lines a
    # worker writes at DEBUG only, being one a task on the hot path.
    with sqlite_fault_stack(
        broker_url=redis_server.url,
        directory=directory,
        workers=WORKERS,
        TASKHUB_LOG_LEVEL="DEBUG",
    ) as started:
        yield started


@pytest.fixture
def client(stack: FaultStack) -> Iterator[ApiClient]:
    """A user of the test's own, so listing their tasks lists this test's only."""
    with stack.client().sign_up() as api:
        yield api


def settle_all(client: ApiClient, count: int, *, timeout: float) -> dict[str, dict[str, object]]:
    def all_terminal() -> dict[str, dict[str, object]] | None:
        tasks = {str(t["id"]): t for t in every_task(client)}
        done = len(tasks) == count and all(t["status"] in TERMINAL for t in tasks.values())
        return tasks if done else None

    return wait_until(all_terminal, timeout=timeout, what="every task to settle", interval=0.5)


def completed_in_the_log(stack: FaultStack, expected: set[str]) -> set[str]:
    """Task ids the workers logged as completed (stored as completed by their run), once
    every one of `expected` is there: a run logs its completion after storing it, so the
    API can show a task completed before its worker's line is written."""

    def logged() -> tuple[set[str]] | None:
        found: set[str] = set()
        for worker in stack.workers():
            found |= set(re.findall(r"task (\S+) \(\w+\) completed in", worker.log_text()))
        return (found,) if expected <= found else None

    return wait_until(logged, timeout=10, what="every completion to be logged")[0]


def test_cancel_against_completion_500_times_ends_in_one_state_the_api_agrees_with(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    rng = random.Random(8)
    plans = [(rng.uniform(0, 0.05), rng.uniform(0, 0.05)) for _ in range(CANCEL_RACES)]

    def race(plan: tuple[float, float]) -> tuple[str, int, dict[str, object], float]:
        run_seconds, cancel_after = plan
        task = client.submit("journaled_sleep", journal=str(journal.path), seconds=run_seconds)
        time.sleep(cancel_after)
        started = time.monotonic()
        response = client.http.post(f"/tasks/{task['id']}/cancel")
        return task["id"], response.status_code, response.json(), time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=PARALLEL_FLOWS) as pool:
        answers = list(pool.map(race, plans))
    tasks = settle_all(client, CANCEL_RACES, timeout=60)
    elapsed = time.monotonic() - started
    time.sleep(1.0)  # a late write would flip a state now
    again = {str(t["id"]): t["status"] for t in every_task(client)}

    statuses = Counter(status for _, status, _, _ in answers)
    runs = journal.starts()
    logged_completed = completed_in_the_log(
        stack, {i for i, t in tasks.items() if t["status"] == "completed"}
    )
    cancelled = [i for i, status, _, _ in answers if status == 200]
    figures(
        submitted=CANCEL_RACES,
        cancel_200=statuses[200],
        cancel_409=statuses[409],
        cancelled_before_running=sum(runs[i] == 0 for i in cancelled),
        cancelled_while_running=sum(runs[i] > 0 for i in cancelled),
        completed=sum(t["status"] == "completed" for t in tasks.values()),
        failed=sum(t["status"] == "failed" for t in tasks.values()),
        lost=sum(t["status"] not in TERMINAL for t in tasks.values()),
        duplicates=sum(n > 1 for n in runs.values()),
        slowest_cancel_seconds=max(seconds for *_, seconds in answers),
        seconds=elapsed,
    )
    assert set(statuses) <= {200, 409}, statuses
    for task_id, status, body, _ in answers:
        stored = tasks[task_id]
        assert again[task_id] == stored["status"], (task_id, stored, again[task_id])
        if status == 200:
            assert body["status"] == "cancelled", body
            assert stored["status"] == "cancelled", (body, stored)
            assert stored["result"] is None, stored
            assert task_id not in logged_completed, stored
        else:
            assert body["status"] == 409, body
            assert stored["status"] == "completed", (body, stored)
            assert stored["result"] is not None, stored
            assert task_id in logged_completed, stored
    assert all(n == 1 for n in runs.values()), [i for i, n in runs.items() if n > 1]


def test_one_message_delivered_to_two_workers_runs_once(
    stack: FaultStack, client: ApiClient, journal: Journal, figures: RecordFigures
) -> None:
    assert len(stack.workers()) == WORKERS
    ids = []
    for _ in range(20):
        task = client.submit("journaled_sleep", journal=str(journal.path), seconds=0.2)
        publish_copies(stack.broker_url, "journaled_sleep", task["id"], copies=2)
        ids.append(task["id"])

    tasks = settle_all(client, len(ids), timeout=60)

    def skipped() -> int:
        logs = [worker.log_text() for worker in stack.workers()]
        return sum(log.count(f"task {task_id} not started") for log in logs for task_id in ids)

    # Every copy delivered and refused by the claim, also those behind the last completion.
    wait_until(lambda: skipped() >= 2 * len(ids), timeout=10, what="every copy to be refused")
    runs, completions = journal.starts(), journal.completions()
    deliveries = {
        worker.name: sum(worker.log_text().count(f"[{task_id}] received") for task_id in ids)
        for worker in stack.workers()
    }
    figures(
        submitted=len(ids),
        messages=3 * len(ids),
        deliveries=sum(deliveries.values()),
        skipped_deliveries=skipped(),
        completed=sum(t["status"] == "completed" for t in tasks.values()),
        failed=sum(t["status"] == "failed" for t in tasks.values()),
        lost=sum(t["status"] not in TERMINAL for t in tasks.values()),
        duplicates=sum(max(n - 1, 0) for n in completions.values()),
    )
    assert all(t["status"] == "completed" and t["attempts"] == 1 for t in tasks.values())
    assert all(runs[i] == 1 and completions[i] == 1 for i in ids), (runs, completions)
    assert sum(deliveries.values()) == 3 * len(ids), deliveries
    assert all(deliveries.values()), f"one worker got no message at all: {deliveries}"
    assert skipped() == 2 * len(ids)

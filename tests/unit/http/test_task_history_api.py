"""The HTTP API of a task's story: the last error's traceback, its attempts, its log, and
re-running it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi.testclient import TestClient

from adapters.clock import SystemClock
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.running.append_task_logs import AppendTaskLogs
from application.running.outcomes import Failed, TaskRun
from domain.attempt import LogLevel, TaskLogLine
from domain.event import EventKind
from domain.task import TaskId
from tests.factories import record_outcome
from tests.unit.http.conftest import Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    assert_problem,
    create_task,
    read,
    start_task,
)

TRACEBACK = "Traceback (most recent call last):\n  File \"job.py\", line 3\nKeyError: 'x'\n"


def fail(store: InMemoryStore, run: TaskRun) -> None:
    record_outcome(
        InMemoryUnitOfWork(store), SystemClock(), run, Failed("KeyError", "'x'", TRACEBACK)
    )


def log(store: InMemoryStore, run: TaskRun, *messages: str) -> None:
    lines = [
        TaskLogLine(run.task_id, run.attempt, LogLevel.INFO, message, datetime.now(UTC))
        for message in messages
    ]
    AppendTaskLogs(InMemoryUnitOfWork(store)).execute(run.task_id, run.run_token, lines)


def test_a_failed_task_shows_its_traceback_and_the_attempt_that_failed(
    client: TestClient, store: InMemoryStore, alice: Account
) -> None:
    task = create_task(client, alice)
    run = start_task(store, task["id"])
    fail(store, run)

    shown = read(client, alice, f"/tasks/{task['id']}")
    attempts = read(client, alice, f"/tasks/{task['id']}/attempts")

    assert shown["status"] == "failed"
    assert shown["error"] == {"type": "KeyError", "message": "'x'", "traceback": TRACEBACK}
    (attempt,) = attempts["items"]
    assert attempt["number"] == 1
    assert attempt["outcome"] == "failed"
    assert attempt["error"]["traceback"] == TRACEBACK
    assert attempt["worker_host"]
    assert isinstance(attempt["worker_pid"], int)
    assert attempt["duration_seconds"] >= 0


def test_a_tasks_log_is_paged_oldest_first_and_a_follower_resumes_from_its_cursor(
    client: TestClient, store: InMemoryStore, alice: Account
) -> None:
    task = create_task(client, alice)
    run = start_task(store, task["id"])
    log(store, run, "one", "two", "three")

    first = read(client, alice, f"/tasks/{task['id']}/logs?limit=2")
    second = read(client, alice, f"/tasks/{task['id']}/logs?cursor={first['next_cursor']}")
    log(store, run, "four")
    later = read(client, alice, f"/tasks/{task['id']}/logs?cursor={second['next_cursor']}")

    assert [line["message"] for line in first["items"]] == ["one", "two"]
    assert [line["message"] for line in second["items"]] == ["three"]
    assert [(line["message"], line["attempt"]) for line in later["items"]] == [("four", 1)]
    assert later["task_status"] == "running"


def test_lines_logged_together_are_one_log_event_of_the_owners_stream_numbered_as_stored(
    client: TestClient, store: InMemoryStore, alice: Account
) -> None:
    task = create_task(client, alice)
    run = start_task(store, task["id"])
    log(store, run, "one", "two")
    log(store, run, "three")

    logged = [e for e in store.events.events if e.kind is EventKind.LOG]

    assert [[(line["seq"], line["message"]) for line in e.data["lines"]] for e in logged] == [
        [(1, "one"), (2, "two")],
        [(3, "three")],
    ]
    assert {(e.data["id"], e.data["task_type"], e.type) for e in logged} == {
        (task["id"], task["task_type"], "task.log")
    }
    sequences = [e.sequence for e in store.events.events]
    assert sequences == sorted(set(sequences))  # one sequence with the status events


def test_someone_elses_task_history_is_not_found(
    client: TestClient, store: InMemoryStore, alice: Account, bob: Account
) -> None:
    task = create_task(client, alice)

    for path in ("attempts", "logs"):
        response = client.get(f"{API}/tasks/{task['id']}/{path}", headers=bob.headers)
        assert_problem(response, 404)
    assert_problem(client.post(f"{API}/tasks/{task['id']}/retry", headers=bob.headers), 404)


def test_a_log_cursor_that_is_not_one_is_refused_naming_it(
    client: TestClient, alice: Account
) -> None:
    task = create_task(client, alice)

    response = client.get(f"{API}/tasks/{task['id']}/logs?cursor=abc", headers=alice.headers)

    assert_invalid(response, "cursor")


def test_a_failed_task_is_re_run_as_a_new_task_linked_to_it_and_left_as_it_was(
    client: TestClient, store: InMemoryStore, alice: Account
) -> None:
    task = create_task(client, alice, kwargs={}, priority="high")
    fail(store, start_task(store, task["id"]))

    response = client.post(f"{API}/tasks/{task['id']}/retry", headers=alice.headers)

    assert response.status_code == 201, response.text
    again = response.json()
    assert again["id"] != task["id"]
    assert again["retry_of"] == task["id"]
    assert (again["status"], again["attempts"], again["error"]) == ("pending", 0, None)
    assert (again["task_type"], again["priority"], again["kwargs"]) == (
        task["task_type"],
        "high",
        task["kwargs"],
    )
    original = read(client, alice, f"/tasks/{task['id']}")
    assert (original["status"], original["error"]["type"]) == ("failed", "KeyError")


def test_only_a_failed_or_cancelled_task_is_re_run(
    client: TestClient, store: InMemoryStore, alice: Account
) -> None:
    pending = create_task(client, alice)
    cancelled = create_task(client, alice)
    client.post(f"{API}/tasks/{cancelled['id']}/cancel", headers=alice.headers)

    refused = client.post(f"{API}/tasks/{pending['id']}/retry", headers=alice.headers)
    accepted = client.post(f"{API}/tasks/{cancelled['id']}/retry", headers=alice.headers)

    assert "failed or cancelled" in assert_problem(refused, 409)["detail"]
    assert accepted.status_code == 201
    uow = InMemoryUnitOfWork(store)
    with uow:
        assert uow.tasks.get(TaskId(UUID(pending["id"]))).retry_of is None

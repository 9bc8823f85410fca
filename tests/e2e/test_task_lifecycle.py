"""A task's life on a shared stack: progress and result, failure, retries, a hostile message,
a submission while the API cannot reach the broker, and runs a recurring schedule submits."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from kombu import Connection

from adapters.celery.topology import destination
from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.task import Task as TaskEntity
from domain.user import UserId
from tests.e2e.api_client import TERMINAL, ApiClient, Task, wait_until
from tests.e2e.broker import closed_broker_url
from tests.e2e.stack import Stack

RUN_TIMEOUT = 20.0


def test_a_countdown_reports_progress_while_running_and_completes_with_its_result(
    client: ApiClient,
) -> None:
    task = client.submit("countdown", seconds=1, steps=5)
    progress_while_running: list[int] = []

    def finished(seen: Task) -> bool:
        if seen["status"] == "running":
            progress_while_running.append(seen["progress"])
        return seen["status"] in TERMINAL

    done = client.wait_for(task["id"], finished, timeout=RUN_TIMEOUT, what="to finish")

    assert done["status"] == "completed", done
    assert done["result"] == {"slept": 1.0}
    assert done["progress"] == 100
    assert done["attempts"] == 1
    started, completed = _time(done["started_at"]), _time(done["completed_at"])
    assert (completed - started).total_seconds() >= 1.0
    assert any(0 < percent < 100 for percent in progress_while_running), progress_while_running


def test_what_a_task_logs_arrives_live_in_its_event_stream_before_it_ends(
    client: ApiClient,
) -> None:
    task = client.submit("narrated_sleep", lines=6, seconds=1.5)
    received: list[tuple[str, dict[str, Any]]] = []
    with client.http.stream("GET", f"/tasks/{task['id']}/events", timeout=RUN_TIMEOUT) as stream:
        assert stream.status_code == 200
        kind = ""
        for line in stream.iter_lines():  # the stream ends after the terminal event
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                received.append((kind, json.loads(line.removeprefix("data: "))))

    kinds = [kind for kind, _ in received]
    logged = [line for kind, data in received if kind == "log" for line in data["lines"]]
    assert [line["message"] for line in logged] == [f"step {n} of 6" for n in range(1, 7)]
    assert [line["seq"] for line in logged] == list(range(1, 7))
    # Live: written in batches while the task ran (not once at its end), each an event
    # of the stream before the terminal one.
    assert kinds.count("log") >= 2, kinds
    assert (received[-1][0], received[-1][1]["status"]) == ("status", "completed")
    stored = client.http.get(f"/tasks/{task['id']}/logs").json()["items"]
    assert [(line["seq"], line["message"]) for line in stored] == [
        (line["seq"], line["message"]) for line in logged
    ]


def test_a_task_that_raises_fails_once_with_the_error_type_and_message(client: ApiClient) -> None:
    task = client.submit("always_fails")

    done = client.wait_for_status(task["id"], "failed", timeout=RUN_TIMEOUT)

    assert (done["error"]["type"], done["error"]["message"]) == ("ValueError", "boom")
    assert done["error"]["traceback"].rstrip().endswith("ValueError: boom")
    assert done["attempts"] == 1
    assert done["result"] is None


def test_a_transient_error_is_retried_with_backoff_until_an_attempt_succeeds(
    client: ApiClient,
) -> None:
    task = client.submit("flaky", fail_until=3)

    done = client.wait_for_status(task["id"], "completed", timeout=RUN_TIMEOUT)

    assert done["attempts"] == 3
    assert done["result"] == {"attempt": 3}
    assert done["error"] is None
    # Backoff 0.2 s after attempt 1, 0.4 s after attempt 2.
    waited = _time(done["completed_at"]) - _time(done["created_at"])
    assert waited.total_seconds() >= 0.6


def test_a_transient_error_that_outlasts_max_attempts_fails_the_task(client: ApiClient) -> None:
    task = client.submit("flaky", fail_until=5)

    done = client.wait_for_status(task["id"], "failed", timeout=RUN_TIMEOUT)

    assert done["max_attempts"] == 4
    assert done["attempts"] == 4
    assert (done["error"]["type"], done["error"]["message"]) == (
        "ConnectionError",
        "attempt 4 fails until attempt 5",
    )


def test_a_pickle_message_naming_a_pending_task_is_refused_and_never_runs(
    stack: Stack, client: ApiClient, tmp_path: Path
) -> None:
    pending = _stored_pending_task(stack.database_url, owner=client.user_id)
    unpickled = tmp_path / "unpickled"
    _publish_pickled(stack.broker_url, "taskhub.noop", pending, _CreatesFile(unpickled))
    # Same queue, published after it: once this one ran, the pickle message was consumed.
    behind = client.submit("noop")

    client.wait_for_status(behind["id"], "completed", timeout=RUN_TIMEOUT)

    assert stack.worker is not None
    stack.worker.wait_for_log(
        rf"(?s)ContentDisallowed.*{pending}|{pending}.*ContentDisallowed", timeout=5
    )
    untouched = client.task(pending)
    assert untouched["status"] == "pending"
    assert untouched["started_at"] is None
    assert untouched["attempts"] == 0
    assert not unpickled.exists(), "the worker unpickled the message body"


def test_a_submission_while_the_broker_is_down_answers_quickly_and_the_relay_delivers_it(
    stack: Stack, client: ApiClient, record_timing: Callable[[str, float], None]
) -> None:
    # Nothing listens on that port: every publish of this API process fails at once.
    cut_off_url = stack.start_api(broker_url=closed_broker_url(stack.broker_url))

    with stack.client(cut_off_url).authorised_as(client) as cut_off:
        started = time.monotonic()
        task = cut_off.submit("noop")
        answered_in = time.monotonic() - started

    record_timing("submission while the API's broker is down -> 201", answered_in)
    assert answered_in < 3.0
    assert task["status"] == "pending"
    done = client.wait_for_status(task["id"], "completed", timeout=RUN_TIMEOUT)
    assert done["attempts"] == 1
    assert stack.worker is not None
    assert stack.beat is not None
    stack.beat.wait_for_log(r"relay_undispatched_tasks: [1-9]\d* task\(s\)", timeout=5)


class _CreatesFile:
    """Unpickling this creates a file: proof that a worker deserialized pickle."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.path), "w"))


def _publish_pickled(broker_url: str, task: str, task_id: str, payload: object) -> None:
    """A Celery protocol-2 message, serialized with pickle, onto the default queue the way
    taskhub publishes (its topic exchange on RabbitMQ, the queue's list on Redis)."""
    headers = {
        "lang": "py",
        "task": task,
        "id": task_id,
        "root_id": task_id,
        "parent_id": None,
        "group": None,
        "retries": 0,
        "eta": None,
        "expires": None,
        "timelimit": [None, None],
        "argsrepr": repr([task_id]),
        "kwargsrepr": "{}",
        "origin": "e2e-test",
        "ignore_result": True,
    }
    body = (
        [task_id],
        {},
        {"callbacks": None, "errbacks": None, "chain": None, "chord": None, "marker": payload},
    )
    exchange, routing_key = destination(
        "default", task.removeprefix("taskhub."), broker_url=broker_url
    )
    with Connection(broker_url) as connection:
        producer = connection.Producer(serializer="pickle")
        producer.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            headers=headers,
            correlation_id=task_id,
            delivery_mode=2,
        )


def _stored_pending_task(database_url: str, *, owner: str) -> str:
    """A pending task whose message is marked sent, so neither the API nor the relay sends it."""
    engine = create_database_engine(database_url)
    try:
        task = TaskEntity.submit(
            name="pending, no message",
            task_type="noop",
            user_id=UserId(UUID(owner)),
            at=datetime.now(UTC),
        )
        task.mark_dispatched(due_at=task.created_at)
        with SqlAlchemyUnitOfWork(create_connection_factory(engine)) as uow:
            uow.tasks.add(task)
            uow.commit()
    finally:
        engine.dispose()
    return str(task.id)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- a recurring schedule ------------------------------------------------------------------

INTERVAL_SECONDS = 2
FIRES = 3


def _fires_of(client: ApiClient, schedule_id: str) -> list[dict[str, Any]]:
    response = client.http.get(f"/schedules/{schedule_id}/fires", params={"limit": 100})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _runs_of(client: ApiClient, schedule_id: str) -> list[dict[str, Any]]:
    response = client.http.get("/tasks", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [t for t in response.json()["items"] if t.get("schedule_id") == schedule_id]


def test_an_interval_schedule_fires_once_per_interval_and_each_fire_runs_once(
    stack: Stack,
) -> None:
    # The shortest interval a user may ask for is a minute by default: an API allowing less.
    api = stack.start_api(TASKHUB_MIN_SCHEDULE_INTERVAL_SECONDS="1")
    with stack.client(api).sign_up() as client:
        body = {
            "name": "every two seconds",
            "task": {"name": "tick", "task_type": "noop"},
            "interval_seconds": INTERVAL_SECONDS,
            "overlap": "allow",  # a slow worker must not turn a fire into a skip
        }
        response = client.http.post("/schedules", json=body)
        assert response.status_code == 201, response.text
        schedule = response.json()
        wait_until(
            lambda: len(_fires_of(client, schedule["id"])) >= FIRES,
            timeout=INTERVAL_SECONDS * FIRES + RUN_TIMEOUT,
            what=f"{FIRES} fires",
        )
        paused = client.http.post(f"/schedules/{schedule['id']}/pause")
        assert paused.status_code == 200, paused.text
        fires = _fires_of(client, schedule["id"])
        for run in _runs_of(client, schedule["id"]):
            client.wait_for_status(run["id"], "completed", timeout=RUN_TIMEOUT)
        runs = _runs_of(client, schedule["id"])

    times = sorted(_time(f["fire_time"]) for f in fires)
    assert len(times) >= FIRES
    assert all(f["outcome"] == "fired" for f in fires), fires
    assert all(n == 1 for n in Counter(times).values()), times
    assert times[0] == _time(schedule["created_at"]) + timedelta(seconds=INTERVAL_SECONDS)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(gap == INTERVAL_SECONDS for gap in gaps), gaps
    # One run per fire time, each the fire's own, all run to the end.
    assert sorted(_time(r["fire_time"]) for r in runs) == times
    assert {r["id"] for r in runs} == {f["task_id"] for f in fires}
    assert {r["status"] for r in runs} == {"completed"}

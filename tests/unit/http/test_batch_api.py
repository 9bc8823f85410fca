"""POST /tasks/batch: many tasks in one request, all of them or none."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from config.settings import Settings
from domain.task import Task
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    assert_problem,
    assert_unauthorized,
    error_fields,
)

BATCH = f"{API}/tasks/batch"


def spec(**fields: Any) -> dict[str, Any]:
    return {"name": "a task", "task_type": "noop", **fields}


def submit_batch(client: TestClient, account: Account, tasks: list[dict[str, Any]]) -> Any:
    return client.post(BATCH, json={"tasks": tasks}, headers=account.headers)


def test_a_batch_is_stored_and_queued_and_answered_in_order(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    tasks = [spec(name="first"), spec(name="second", priority="high"), spec(name="third")]

    response = submit_batch(client, alice, tasks)

    assert response.status_code == 201, response.text
    items = response.json()["items"]
    assert [item["name"] for item in items] == ["first", "second", "third"]
    assert {item["status"] for item in items} == {"pending"}
    assert {item["user_id"] for item in items} == {alice.id}
    assert [item["queue"] for item in items] == ["default", "high_priority", "default"]
    assert [str(task_id) for task_id in dispatcher.enqueued_ids] == [i["id"] for i in items]
    listed = client.get(f"{API}/tasks", headers=alice.headers).json()["items"]
    assert {task["id"] for task in listed} == {item["id"] for item in items}


def test_invalid_tasks_are_named_by_position_and_nothing_is_stored_or_queued(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    tasks = [
        spec(),
        spec(task_type="countdown", kwargs={"seconds": 1}),
        spec(task_type="no_such_type"),
        spec(task_type="countdown", kwargs={"seconds": -1}),
        spec(task_type="deploy_model"),
    ]

    response = submit_batch(client, alice, tasks)

    body = assert_invalid(response, "tasks[3].kwargs.seconds")
    assert error_fields(body) == [
        "tasks[2].task_type",
        "tasks[3].kwargs.seconds",
        "tasks[4].task_type",
    ]
    assert store.tasks == {}
    assert dispatcher.enqueued == []


def test_a_malformed_task_is_named_by_position_too(client: TestClient, alice: Account) -> None:
    response = submit_batch(client, alice, [spec(), {"task_type": "noop"}, spec(bogus=1)])

    body = assert_invalid(response, "tasks[1].name")
    assert "tasks[2].bogus" in error_fields(body)


def test_an_empty_batch_and_one_over_the_size_limit_are_refused(
    client: TestClient, alice: Account, override_settings: Callable[..., Settings]
) -> None:
    assert_invalid(submit_batch(client, alice, []), "tasks")
    override_settings(max_batch_size=2)

    body = assert_invalid(submit_batch(client, alice, [spec()] * 3), "tasks")

    assert body["limit"] == 2
    assert submit_batch(client, alice, [spec()] * 2).status_code == 201


def test_the_quota_must_hold_the_whole_batch(
    client: TestClient, alice: Account, settings: Settings, store: InMemoryStore
) -> None:
    limit = settings.max_active_tasks_per_user

    response = submit_batch(client, alice, [spec()] * (limit + 1))

    body = assert_problem(response, 429)
    assert body["quota"] == "active_tasks"
    assert store.tasks == {}
    assert submit_batch(client, alice, [spec()] * limit).status_code == 201


def test_an_api_process_stores_one_batch_at_a_time_and_single_submissions_go_on_meanwhile(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    record = dispatcher.enqueue
    lock = threading.Lock()
    queuing: list[int] = []  # +1 as a batch starts queuing its tasks, -1 as it ends
    first_batch_queuing, single_stored = threading.Event(), threading.Event()
    single_waited_for_a_batch: list[bool] = []

    def enqueue(tasks: Sequence[Task], *, countdown: float | None = None) -> None:
        if len(tasks) > 1:  # a batch: hold it while others try to run beside it
            with lock:
                queuing.append(1)
            first_batch_queuing.set()
            single_waited_for_a_batch.append(not single_stored.wait(timeout=5))
            time.sleep(0.05)
            with lock:
                queuing.append(-1)
        record(tasks, countdown=countdown)

    dispatcher.enqueue = enqueue  # type: ignore[method-assign]
    with ThreadPoolExecutor(max_workers=3) as pool:
        batches = [pool.submit(submit_batch, client, alice, [spec()] * 5) for _ in range(3)]
        assert first_batch_queuing.wait(timeout=5)
        single = client.post(f"{API}/tasks", json=spec(name="single"), headers=alice.headers)
        single_stored.set()
        statuses = [batch.result(timeout=10).status_code for batch in batches]

    assert single.status_code == 201, single.text
    assert not any(single_waited_for_a_batch)
    assert statuses == [201, 201, 201]
    assert len(store.tasks) == 16
    # Each batch began queuing only after the one before had finished: 1, -1, 1, -1, ...
    assert queuing == [1, -1] * 3


def test_a_keyed_batch_replays_its_tasks_and_the_key_with_another_batch_is_refused(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "batch-1"}
    body = {"tasks": [spec(name="first"), spec(name="second")]}

    first = client.post(BATCH, json=body, headers=headers)
    again = client.post(BATCH, json=body, headers=headers)
    other = client.post(BATCH, json={"tasks": [spec(name="other")]}, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [i["id"] for i in again.json()["items"]] == [i["id"] for i in first.json()["items"]]
    assert other.status_code == 422
    assert [e["field"] for e in other.json()["errors"]] == ["Idempotency-Key"]
    assert len(store.tasks) == 2


def test_a_batch_needs_a_token(client: TestClient) -> None:
    assert_unauthorized(client.post(BATCH, json={"tasks": [spec()]}))


def test_the_openapi_document_describes_the_batch_route() -> None:
    document = TestClient(create_app(ApiContainer())).get(f"{API}/openapi.json").json()

    operation = document["paths"][BATCH]["post"]

    assert operation["operationId"] == "submit_task_batch"
    assert {"201", "401", "422", "429"} <= operation["responses"].keys()
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][request.rsplit("/", 1)[-1]]
    assert schema["required"] == ["tasks"]
    assert schema["properties"]["tasks"]["items"]["$ref"].endswith("/SubmitTaskRequest")

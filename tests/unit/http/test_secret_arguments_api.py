"""Secret arguments and results through the API: masked wherever a task is shown, stored
sealed, a secret result read only by its owner through GET /tasks/{id}/result, never cached."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from application.secret_values import MASK, SEALED, is_sealed
from domain.task import TaskId
from entrypoints.api_container import ApiContainer
from tests.unit.http.conftest import Account
from tests.unit.http.console_support import sign_in
from tests.unit.http.support import API, create_task

TASKS = f"{API}/tasks"
KEY = "hmac-key-0123456789abcdef"


def submit_signature(client: TestClient, account: Account) -> dict[str, Any]:
    return create_task(
        client, account, task_type="file_signature", kwargs={"path": "a.bin", "key": KEY}
    )


def with_sealed_result(container: ApiContainer, task_id: str, result: Any) -> None:
    """The task completed with `result` sealed, as a worker stores a secret result."""
    cipher = container.core.secret_cipher()
    with container.core.unit_of_work() as uow:
        task = uow.tasks.get(TaskId(UUID(task_id)))
        task.result = {SEALED: cipher.encrypt(json.dumps(result))}
        uow.tasks.update(task)
        uow.commit()


def test_a_secret_argument_is_masked_in_every_answer_and_stored_sealed(
    client: TestClient, alice: Account, container: ApiContainer
) -> None:
    task = submit_signature(client, alice)

    answers = [
        client.get(f"{TASKS}/{task['id']}", headers=alice.headers).text,
        client.get(TASKS, headers=alice.headers).text,
        json.dumps(task),
    ]

    assert task["kwargs"] == {"path": "a.bin", "key": MASK}
    assert not [answer for answer in answers if KEY in answer]
    with container.core.unit_of_work() as uow:
        stored = uow.tasks.get(TaskId(UUID(task["id"])))
    assert is_sealed(stored.kwargs["key"])
    assert KEY not in json.dumps(stored.kwargs)


def test_the_broker_is_handed_the_task_and_not_its_arguments(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    task = submit_signature(client, alice)

    [enqueued] = dispatcher.enqueued
    assert str(enqueued.task_id) == task["id"]
    assert KEY not in repr(enqueued)


def test_a_secret_result_is_masked_on_the_task_and_read_in_clear_by_its_owner_uncached(
    client: TestClient, alice: Account, container: ApiContainer
) -> None:
    task = create_task(client, alice)
    with_sealed_result(container, task["id"], {"token": "tok-123"})

    shown = client.get(f"{TASKS}/{task['id']}", headers=alice.headers)
    read = client.get(f"{TASKS}/{task['id']}/result", headers=alice.headers)

    assert shown.json()["result"] == MASK
    assert read.status_code == 200, read.text
    assert read.json() == {"id": task["id"], "result": {"token": "tok-123"}}
    assert read.headers["cache-control"] == "no-store"


def test_someone_elses_result_is_not_found_an_admin_included(
    client: TestClient, alice: Account, bob: Account, admin: Account, container: ApiContainer
) -> None:
    task = create_task(client, alice)
    with_sealed_result(container, task["id"], {"token": "tok-123"})

    for other in (bob, admin):
        response = client.get(f"{TASKS}/{task['id']}/result", headers=other.headers)
        assert response.status_code == 404, response.text
        assert "tok-123" not in response.text


def test_a_result_no_key_opens_is_a_clear_server_error_not_a_crash(
    client: TestClient, alice: Account, container: ApiContainer
) -> None:
    task = create_task(client, alice)
    with container.core.unit_of_work() as uow:
        row = uow.tasks.get(TaskId(UUID(task["id"])))
        row.result = {SEALED: "lost-key:c2VjcmV0"}
        uow.tasks.update(row)
        uow.commit()

    response = client.get(f"{TASKS}/{task['id']}/result", headers=alice.headers)
    again = client.get(f"{TASKS}/{task['id']}", headers=alice.headers)

    assert response.status_code == 500
    assert "cannot be decrypted" in response.json()["detail"]
    assert again.status_code == 200  # the task itself still reads, masked
    assert again.json()["result"] == MASK


def test_a_schedule_cannot_keep_a_secret_argument(client: TestClient, alice: Account) -> None:
    body = {
        "name": "nightly signature",
        "task": {
            "name": "sign",
            "task_type": "file_signature",
            "kwargs": {"path": "a", "key": KEY},
        },
        "cron": "0 2 * * *",
    }

    response = client.post(f"{API}/schedules", json=body, headers=alice.headers)

    assert response.status_code == 422, response.text
    assert KEY not in response.text
    assert "secret" in response.text


def test_the_consoles_task_page_shows_a_secret_argument_masked_and_never_sealed(
    client: TestClient, alice: Account, container: ApiContainer
) -> None:
    task = submit_signature(client, alice)
    with container.core.unit_of_work() as uow:
        sealed = uow.tasks.get(TaskId(UUID(task["id"]))).kwargs["key"][SEALED]
    sign_in(client, alice)

    page = client.get(f"/ui/tasks/{task['id']}")

    assert page.status_code == 200
    assert MASK in page.text
    assert KEY not in page.text
    assert sealed not in page.text

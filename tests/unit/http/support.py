"""Request helpers and problem-document assertions shared by the HTTP tests."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
from fastapi.testclient import TestClient

from adapters.clock import SystemClock
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.ports import TaskQuery
from application.running.outcomes import Completed, TaskRun
from application.running.start_task import StartTask
from domain.model import ModelId
from domain.task import RunToken, TaskId, TaskStatus
from tests.factories import record_outcome
from tests.unit.http.conftest import Account

API = "/api/v1"
PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem document with `status`; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert body["status"] == status
    assert body["instance"] == response.request.url.path
    return body


def assert_unauthorized(response: httpx.Response) -> dict[str, Any]:
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    return body


def assert_invalid(response: httpx.Response, field: str) -> dict[str, Any]:
    """A 422 problem whose `errors` name `field`."""
    body = assert_problem(response, 422)
    assert field in error_fields(body), body
    return body


def error_fields(body: dict[str, Any]) -> list[str]:
    return [error["field"] for error in body.get("errors", [])]


def not_refused(
    responses: Mapping[str, httpx.Response], fields: Mapping[str, str]
) -> dict[str, Any]:
    """The cases whose response is not a 422 problem naming `fields[case]`, with what they got.

    Table-driven tests assert this is `{}`: one request per case, and a failure shows them all.
    """
    wrong: dict[str, Any] = {}
    for case, response in responses.items():
        problem = response.headers.get("content-type") == PROBLEM_JSON
        named = error_fields(response.json()) if problem else []
        if response.status_code != 422 or fields[case] not in named:
            wrong[case] = (response.status_code, named or response.text)
    return wrong


def create_task(client: TestClient, account: Account, **fields: Any) -> dict[str, Any]:
    response = client.post(
        f"{API}/tasks",
        json={"name": "a task", "task_type": "noop", **fields},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def create_model(client: TestClient, account: Account, **fields: Any) -> dict[str, Any]:
    body = {"name": "resnet", "model_type": "onnx", "artifact_location": "/models/a.onnx"}
    response = client.post(f"{API}/models", json={**body, **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    model: dict[str, Any] = response.json()
    return model


def read(client: TestClient, account: Account, path: str) -> dict[str, Any]:
    response = client.get(f"{API}{path}", headers=account.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def start_task(store: InMemoryStore, task_id: str) -> TaskRun:
    """What a worker's claim does: pending -> running."""
    uow = InMemoryUnitOfWork(store)
    return StartTask(uow=uow, clock=SystemClock()).execute(TaskId(UUID(task_id)))


def complete_task(store: InMemoryStore, run: TaskRun, result: Any = None) -> None:
    uow = InMemoryUnitOfWork(store)
    record_outcome(uow, SystemClock(), run, Completed(result))


def mark_validated(store: InMemoryStore, model_id: str) -> None:
    """What a passing validation does to a validating model, straight through the store."""
    uow = InMemoryUnitOfWork(store)
    with uow:
        model = uow.models.get(ModelId(UUID(model_id)))
        model.mark_validated(size=1, sha256="a" * 64, at=datetime.now(UTC))
        uow.models.update(model)
        uow.commit()


def complete_model_tasks(store: InMemoryStore, model_id: str) -> None:
    """What a model's pending tasks' runs end with, straight through the store: they give
    up the model's concurrency slot."""
    uow = InMemoryUnitOfWork(store)
    with uow:
        query = TaskQuery(model_id=ModelId(UUID(model_id)), status=TaskStatus.PENDING)
        for task in uow.tasks.find(query):
            task.start(run_token=RunToken("run"), at=datetime.now(UTC))
            task.complete(run_token=RunToken("run"), result={}, at=datetime.now(UTC))
            uow.tasks.update(task)
        uow.commit()

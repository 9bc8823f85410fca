"""One rule for every text a client sends: no control characters and no lone surrogates,
refused with a 422 naming the field; descriptions may still hold line breaks."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from tests.unit.http.conftest import PASSWORD, Account
from tests.unit.http.support import API, assert_invalid, create_model, create_task, not_refused

BAD = {"NUL": "\x00", "escape": "\x1b[2J", "DEL": "\x7f", "C1": "\x9b", "newline": "\n"}


def test_every_text_field_refuses_each_control_character(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    task = create_task(client, alice)
    model = create_model(client, alice)
    responses: dict[str, Any] = {}
    fields: dict[str, str] = {}
    for kind, bad in BAD.items():
        cases: dict[str, tuple[str, str, dict[str, Any], str]] = {
            "register.email": (
                "POST",
                "/auth/register",
                {"json": {"email": f"a{bad}@x.io", "password": PASSWORD}},
                "email",
            ),
            "task.name": (
                "POST",
                "/tasks",
                {"json": {"name": f"a{bad}", "task_type": "noop"}},
                "name",
            ),
            "task.task_type": (
                "POST",
                "/tasks",
                {"json": {"name": "a", "task_type": f"noop{bad}"}},
                "task_type",
            ),
            "batch.name": (
                "POST",
                "/tasks/batch",
                {"json": {"tasks": [{"name": f"a{bad}", "task_type": "noop"}]}},
                "tasks[0].name",
            ),
            "rename.task": ("PATCH", f"/tasks/{task['id']}", {"json": {"name": f"a{bad}"}}, "name"),
            "list.task_type": (
                "GET",
                "/tasks",
                {"params": {"task_type": f"noop{bad}"}},
                "task_type",
            ),
            "model.name": (
                "POST",
                "/models",
                {"json": {"name": f"m{bad}", "model_type": "onnx", "artifact_location": "a.onnx"}},
                "name",
            ),
            "model.location": (
                "POST",
                "/models",
                {"json": {"name": "m2", "model_type": "onnx", "artifact_location": f"a{bad}.onnx"}},
                "artifact_location",
            ),
            "model.rename": (
                "PATCH",
                f"/models/{model['id']}",
                {"json": {"name": f"m{bad}"}},
                "name",
            ),
            "login.username": (
                "POST",
                "/auth/token",
                {"data": {"username": f"a{bad}@x.io", "password": PASSWORD}},
                "username",
            ),
        }
        for case, (method, path, kwargs, field) in cases.items():
            name = f"{case} with {kind}"
            responses[name] = client.request(
                method, f"{API}{path}", headers=alice.headers, **kwargs
            )
            fields[name] = field

    assert not_refused(responses, fields) == {}
    assert len(store.tasks) == 1
    assert len(store.models) == 1


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f"])
def test_a_description_refuses_control_characters(
    client: TestClient, alice: Account, bad: str
) -> None:
    body = {"name": "m", "model_type": "onnx", "artifact_location": "a.onnx", "description": bad}

    assert_invalid(client.post(f"{API}/models", json=body, headers=alice.headers), "description")


def test_a_description_keeps_its_line_breaks_and_tabs(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice, description="line one\n\tline two\r\n")

    assert model["description"] == "line one\n\tline two"


def test_a_lone_surrogate_in_kwargs_is_a_422_naming_kwargs(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    body = b'{"name": "t", "task_type": "noop", "kwargs": {"k": "\\udfff"}}'

    response = client.post(
        f"{API}/tasks", content=body, headers={**alice.headers, "content-type": "application/json"}
    )

    assert_invalid(response, "kwargs")
    assert store.tasks == {}


def test_a_lone_surrogate_in_a_task_name_is_a_422_naming_name(
    client: TestClient, alice: Account
) -> None:
    body = b'{"name": "a\\ud800", "task_type": "noop"}'

    response = client.post(
        f"{API}/tasks", content=body, headers={**alice.headers, "content-type": "application/json"}
    )

    assert_invalid(response, "name")


def test_a_refusal_reads_as_the_rule_not_as_the_validator_that_raised_it(
    client: TestClient,
) -> None:
    response = client.post(
        f"{API}/auth/register", json={"email": "a\x00@x.io", "password": PASSWORD}
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "email"
    assert error["message"].startswith("must not contain a control character")

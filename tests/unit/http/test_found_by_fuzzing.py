"""Regressions from fuzzing the API with schemathesis (tests/contract), and from making the
OpenAPI document declare every status the API can answer, as its conformance checks demand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from config.settings import Settings
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import Account
from tests.unit.http.support import (
    API,
    PROBLEM_JSON,
    assert_invalid,
    assert_problem,
    create_model,
    mark_validated,
)

NOT_UTF8 = b'{"name": "\xff\xfe\x91"}'


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = (
        TestClient(create_app(ApiContainer())).get(f"{API}/openapi.json").json()
    )
    return document


# --- a body that is not UTF-8 was a 400 the document did not declare -----------------------


@pytest.mark.parametrize("path", ["/tasks", "/models", "/auth/register"])
def test_a_json_body_that_is_not_utf8_is_a_422_naming_the_body_like_broken_json(
    client: TestClient, alice: Account, store: InMemoryStore, path: str
) -> None:
    response = client.post(
        f"{API}{path}",
        content=NOT_UTF8,
        headers={**alice.headers, "content-type": "application/json"},
    )

    assert_invalid(response, "body")
    assert (store.tasks, store.models) == ({}, {})


# --- the document declares what the limits answer -------------------------------------------


def test_every_operation_with_a_body_declares_the_413_problem(openapi: dict[str, Any]) -> None:
    with_body = {
        f"{method.upper()} {path}": operation["responses"]
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    }

    undeclared = [key for key, responses in with_body.items() if "413" not in responses]

    assert with_body
    assert undeclared == []
    assert {PROBLEM_JSON} == set(next(iter(with_body.values()))["413"]["content"])


def test_the_login_declares_its_429(openapi: dict[str, Any]) -> None:
    responses = openapi["paths"][f"{API}/auth/token"]["post"]["responses"]

    assert set(responses["429"]["content"]) == {PROBLEM_JSON}


def test_model_requests_over_the_task_quota_are_a_429_the_document_declares(
    client: TestClient,
    alice: Account,
    store: InMemoryStore,
    override_settings: Callable[..., Settings],
    openapi: dict[str, Any],
) -> None:
    override_settings(max_active_tasks_per_user=1)
    validated = create_model(client, alice, name="validated")
    client.post(f"{API}/models/{validated['id']}/validate", headers=alice.headers)  # the 1 task
    mark_validated(store, validated["id"])
    registered = create_model(client, alice, name="registered")

    answers = {
        "validate": client.post(f"{API}/models/{registered['id']}/validate", headers=alice.headers),
        "deploy": client.post(f"{API}/models/{validated['id']}/deploy", headers=alice.headers),
    }

    for action, response in answers.items():
        assert_problem(response, 429)
        declared = openapi["paths"][f"{API}/models/{{model_id}}/{action}"]["post"]["responses"]
        assert set(declared["429"]["content"]) == {PROBLEM_JSON}, action

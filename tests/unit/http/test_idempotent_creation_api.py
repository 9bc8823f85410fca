"""Idempotency-Key on POST /workflows and POST /schedules, with the semantics of POST /tasks:
the same key and body replay the first answer (201, `Idempotent-Replayed: true`) without
creating another; the same key with another body is 422 naming the header."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from tests.unit.http.conftest import Account
from tests.unit.http.support import API

WORKFLOW = {"name": "w", "tasks": [{"key": "a", "name": "a", "task_type": "noop"}]}
SCHEDULE = {
    "name": "hourly",
    "task": {"name": "n", "task_type": "noop"},
    "interval_seconds": 3600,
}
CREATIONS = [
    pytest.param("/workflows", WORKFLOW, "workflows", id="workflows"),
    pytest.param("/schedules", SCHEDULE, "schedules", id="schedules"),
]


def created(store: InMemoryStore, table: str) -> int:
    return len(getattr(store, table))


@pytest.mark.parametrize(("path", "body", "table"), CREATIONS)
def test_the_same_key_and_body_replay_the_first_creation_without_another(
    client: TestClient,
    store: InMemoryStore,
    alice: Account,
    path: str,
    body: dict[str, Any],
    table: str,
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "create-1"}
    first = client.post(f"{API}{path}", json=body, headers=headers)
    again = client.post(f"{API}{path}", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert created(store, table) == 1


@pytest.mark.parametrize(("path", "body", "table"), CREATIONS)
def test_the_same_key_with_another_body_is_refused_naming_the_header(
    client: TestClient,
    store: InMemoryStore,
    alice: Account,
    path: str,
    body: dict[str, Any],
    table: str,
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "create-2"}
    client.post(f"{API}{path}", json=body, headers=headers)

    refused = client.post(f"{API}{path}", json={**body, "name": "other"}, headers=headers)

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["Idempotency-Key"]
    assert created(store, table) == 1


@pytest.mark.parametrize(("path", "body", "table"), CREATIONS)
def test_keys_are_per_user(
    client: TestClient,
    store: InMemoryStore,
    alice: Account,
    bob: Account,
    path: str,
    body: dict[str, Any],
    table: str,
) -> None:
    alices = client.post(
        f"{API}{path}", json=body, headers={**alice.headers, "Idempotency-Key": "k"}
    )
    bobs = client.post(f"{API}{path}", json=body, headers={**bob.headers, "Idempotency-Key": "k"})

    assert bobs.status_code == 201
    assert "Idempotent-Replayed" not in bobs.headers
    assert bobs.json()["id"] != alices.json()["id"]
    assert created(store, table) == 2

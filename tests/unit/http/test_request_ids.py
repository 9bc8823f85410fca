"""Every response carries a request id, and a submitted task remembers the one that made it."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.unit.http.conftest import Account

API = "/api/v1"


def test_a_client_request_id_is_echoed_and_stored_on_the_task(
    client: TestClient, alice: Account
) -> None:
    response = client.post(
        f"{API}/tasks",
        json={"name": "traced", "task_type": "noop"},
        headers={**alice.headers, "X-Request-ID": "trace-42"},
    )

    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "trace-42"
    assert response.json()["request_id"] == "trace-42"


def test_each_task_of_a_batch_remembers_the_request_id_that_made_it(
    client: TestClient, alice: Account
) -> None:
    tasks = [{"name": f"traced {n}", "task_type": "noop"} for n in range(3)]

    response = client.post(
        f"{API}/tasks/batch",
        json={"tasks": tasks},
        headers={**alice.headers, "X-Request-ID": "batch-7"},
    )

    assert response.status_code == 201, response.text
    assert [item["request_id"] for item in response.json()["items"]] == ["batch-7"] * 3


@pytest.mark.parametrize("sent", [None, "", "has spaces", "x" * 65, "new\nline"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_fresh_one(
    client: TestClient, sent: str | None
) -> None:
    headers = {} if sent is None else {"X-Request-ID": sent}

    response = client.get(f"{API}/health/live", headers=headers)

    generated = response.headers["X-Request-ID"]
    assert generated != sent
    assert len(generated) == 32


def test_each_request_is_logged_once_with_its_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="taskhub.access"):
        client.get(f"{API}/health/live", headers={"X-Request-ID": "abc-1"})

    lines = [r for r in caplog.records if r.name == "taskhub.access"]
    assert len(lines) == 1
    assert lines[0].getMessage().startswith("GET /api/v1/health/live 200")

"""One idempotency key sent by many requests at once, against a real API process on SQLite
and on PostgreSQL: exactly one task is created, and every answer names it or says "in
progress"."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.e2e.api_client import ApiClient
from tests.faults.conftest import RecordFigures
from tests.faults.stack import FaultStack, api_alone, every_task, racing_client
from tests.faults.test_quota_race import all_at_once
from tests.support.databases import database_backends
from tests.support.redis_server import RedisServer

REQUESTS = 50


@pytest.fixture(scope="module", params=database_backends())
def api(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FaultStack]:
    """An API process alone: no worker, so the task stays pending."""
    directory = tmp_path_factory.mktemp(f"idempotency-race-{request.param}")
    with api_alone(request.param, broker_url=redis_server.url, directory=directory) as stack:
        yield stack


@pytest.fixture
def client(api: FaultStack) -> Iterator[ApiClient]:
    with racing_client(api, connections=REQUESTS, timeout=60) as racing:
        yield racing


def test_fifty_requests_at_once_with_one_key_create_exactly_one_task(
    client: ApiClient, figures: RecordFigures
) -> None:
    body = {"name": "once", "task_type": "noop"}
    answers = all_at_once(
        REQUESTS,
        lambda _: client.http.post("/tasks", json=body, headers={"Idempotency-Key": "k-50"}),
    )
    stored = every_task(client)

    codes = Counter(answer.status_code for answer in answers)
    created = [a for a in answers if a.status_code == 201]
    figures(requests=REQUESTS, created_or_replayed=codes[201], in_progress=codes[409])
    assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    assert len(stored) == 1
    assert {a.json()["id"] for a in created} == {stored[0]["id"]}
    assert sum(a.headers.get("Idempotent-Replayed") != "true" for a in created) == 1
    # Once the first has committed, a retry is answered with it.
    again = client.http.post("/tasks", json=body, headers={"Idempotency-Key": "k-50"})
    assert again.status_code == 201
    assert again.json()["id"] == stored[0]["id"]
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param(
            "/workflows",
            {"name": "once", "tasks": [{"key": "a", "name": "a", "task_type": "noop"}]},
            id="workflow",
        ),
        pytest.param(
            "/schedules",
            {"name": "once", "task": {"name": "n", "task_type": "noop"}, "interval_seconds": 3600},
            id="schedule",
        ),
    ],
)
def test_fifty_requests_at_once_with_one_key_create_exactly_one_workflow_or_schedule(
    client: ApiClient, path: str, body: dict[str, object]
) -> None:
    key = f"k-50{path.replace('/', '-')}"
    answers = all_at_once(
        REQUESTS, lambda _: client.http.post(path, json=body, headers={"Idempotency-Key": key})
    )
    listed = client.http.get(path, params={"limit": 100}).json()["items"]

    codes = Counter(answer.status_code for answer in answers)
    created = [a for a in answers if a.status_code == 201]
    assert set(codes) <= {201, 409}, [a.text for a in answers if a.status_code not in (201, 409)]
    assert len([item for item in listed if item["name"] == "once"]) == 1
    assert len({a.json()["id"] for a in created}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") != "true" for a in created) == 1

"""The event stream against a real API process over Redis: a late subscriber gets the
current state first, a change made by another request arrives through pub/sub and ends
the stream, Last-Event-ID resumes without a gap, and a stream token opens nothing else."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.api_client import ApiClient
from tests.faults.stack import FaultStack
from tests.support.databases import migrated_database
from tests.support.redis_server import RedisServer


@pytest.fixture(scope="module")
def api(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    directory = tmp_path_factory.mktemp("event-stream")
    with migrated_database("sqlite", directory) as database_url:
        stack = FaultStack(
            database_url=database_url, broker_url=redis_server.url, directory=directory
        )
        try:
            stack.start_api()
            yield stack
        finally:
            stack.stop()


@pytest.fixture
def client(api: FaultStack) -> Iterator[ApiClient]:
    with api.client().sign_up() as signed_up:
        yield signed_up


def read_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """Server-sent events as dicts of their fields; comments and `retry` skipped."""
    event: dict[str, Any] = {}
    for line in lines:
        if line == "":
            if "data" in event:
                event["data"] = json.loads(event["data"])
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(": ")
            event[name] = value


def test_a_task_stream_starts_with_the_current_state_and_ends_after_the_terminal_event(
    client: ApiClient,
) -> None:
    task = client.http.post("/tasks", json={"name": "s", "task_type": "noop"}).json()
    url = f"/tasks/{task['id']}/events"
    with client.http.stream("GET", url, timeout=30) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        events = read_events(stream.iter_lines())
        first = next(events)
        cancelled = client.http.post(f"/tasks/{task['id']}/cancel")
        assert cancelled.status_code == 200
        rest = list(events)  # the stream ends by itself after the terminal event

    assert (first["event"], first["data"]["status"]) == ("status", "pending")
    assert [(e["event"], e["data"]["status"]) for e in rest] == [("status", "cancelled")]
    assert int(rest[0]["id"]) == int(first["id"]) + 1


def test_last_event_id_resumes_with_what_happened_since(client: ApiClient) -> None:
    a = client.http.post("/tasks", json={"name": "a", "task_type": "noop"}).json()
    b = client.http.post("/tasks", json={"name": "b", "task_type": "noop"}).json()
    client.http.post(f"/tasks/{a['id']}/cancel")
    headers = {"Last-Event-ID": "1"}
    with client.http.stream("GET", "/events", headers=headers, timeout=30) as stream:
        events = read_events(stream.iter_lines())
        resumed = [next(events), next(events)]

    assert [(int(e["id"]), e["data"]["id"], e["data"]["status"]) for e in resumed] == [
        (2, b["id"], "pending"),
        (3, a["id"], "cancelled"),
    ]


def test_a_stream_token_reads_streams_and_nothing_else(client: ApiClient) -> None:
    token = client.http.post("/auth/stream-token").json()
    task = client.http.post("/tasks", json={"name": "t", "task_type": "noop"}).json()
    client.http.post(f"/tasks/{task['id']}/cancel")
    anonymous = httpx.Client(base_url=client.http.base_url, trust_env=False, timeout=30)

    streamed = anonymous.get(
        f"/tasks/{task['id']}/events", params={"access_token": token["access_token"]}
    )
    as_bearer = anonymous.get(
        f"/tasks/{task['id']}", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    as_query = anonymous.get(f"/tasks/{task['id']}", params={"access_token": token["access_token"]})

    assert token["expires_in"] == 60
    assert streamed.status_code == 200
    assert '"status":"cancelled"' in streamed.text
    assert as_bearer.status_code == 401
    assert as_query.status_code in (401, 422)


def test_a_bad_last_event_id_is_refused_naming_the_header(client: ApiClient) -> None:
    answer = client.http.get("/events", headers={"Last-Event-ID": "soon"})
    assert answer.status_code == 422
    assert "Last-Event-ID" in answer.text

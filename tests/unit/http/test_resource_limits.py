"""Resource limits over HTTP: the body cap, task argument caps, the quota and login throttling."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from config.settings import Settings
from entrypoints.http.body_limit import BodySizeLimitMiddleware
from tests.unit.http.conftest import PASSWORD, Account
from tests.unit.http.support import API, assert_invalid, assert_problem, create_task

TASKS = f"{API}/tasks"
QUOTA = f"{API}/users/me/quota"
MIB = 1024 * 1024


def task_body(size: int) -> bytes:
    """A task submission of exactly `size` bytes of JSON."""
    frame = json.dumps({"name": "big", "task_type": "noop", "kwargs": {"pad": ""}}).encode()
    body = json.loads(frame)
    body["kwargs"]["pad"] = "x" * (size - len(frame))
    encoded = json.dumps(body).encode()
    assert len(encoded) == size
    return encoded


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_the_limits_default_to_1_mib_bodies_64_kib_arguments_10_levels_and_5_free_logins() -> None:
    settings = Settings(environment="development")

    assert (settings.max_body_bytes, settings.max_arguments_bytes) == (MIB, 64 * 1024)
    assert (settings.max_arguments_depth, settings.login_free_attempts) == (10, 5)
    assert settings.login_max_delay_seconds == 15 * 60


# --- the body cap --------------------------------------------------------------------------


def test_a_body_declared_over_the_cap_is_a_413_problem_naming_the_limit(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    response = client.post(
        TASKS,
        content=task_body(MIB + 1),
        headers={**alice.headers, "content-type": "application/json"},
    )

    body = assert_problem(response, 413)
    assert body["type"] == "urn:taskhub:problem:body_too_large"
    assert body["limit"] == MIB
    assert str(MIB) in body["detail"]
    assert store.tasks == {}


def test_a_streamed_body_without_a_length_is_refused_once_it_passes_the_cap(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    response = client.post(
        TASKS,
        content=chunks(task_body(MIB + 1)),
        headers={**alice.headers, "content-type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    body = assert_problem(response, 413)
    assert body["limit"] == MIB
    assert store.tasks == {}


def test_a_body_of_exactly_the_cap_is_read_and_judged_on_its_content(
    client: TestClient, alice: Account
) -> None:
    response = client.post(
        TASKS,
        content=task_body(MIB),
        headers={**alice.headers, "content-type": "application/json"},
    )

    assert_invalid(response, "kwargs")  # past the body cap, caught by the arguments cap


def test_the_login_form_is_capped_too(client: TestClient) -> None:
    response = client.post(
        f"{API}/auth/token", data={"username": "a@example.com", "password": "x" * (MIB + 1)}
    )

    assert_problem(response, 413)


# The middleware on its own: what it lets the application read, and when.


async def refuse_if_read() -> Message:
    raise AssertionError("the body was read")


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.app_called = False

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.app_called = True
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])


def http_scope(headers: list[tuple[bytes, bytes]]) -> Scope:
    return {"type": "http", "method": "POST", "path": "/x", "headers": headers, "query_string": b""}


def test_a_declared_length_over_the_cap_is_refused_without_reading_or_calling_the_app() -> None:
    recorder = Recorder()
    middleware = BodySizeLimitMiddleware(recorder.app, max_bytes=10)

    scope = http_scope([(b"content-length", b"11")])
    asyncio.run(middleware(scope, refuse_if_read, recorder.send))

    assert recorder.status == 413
    assert recorder.app_called is False


def test_a_stream_is_cut_at_the_first_chunk_past_the_cap() -> None:
    sent = [b"12345", b"67890", b"!", b"never read"]
    reads = 0

    async def receive() -> Message:
        nonlocal reads
        reads += 1
        body = sent[reads - 1]
        return {"type": "http.request", "body": body, "more_body": reads < len(sent)}

    middleware = BodySizeLimitMiddleware(Recorder().app, max_bytes=10)

    with pytest.raises(Exception, match="limit of 10 bytes") as error:
        asyncio.run(middleware(http_scope([]), receive, Recorder().send))

    assert getattr(error.value, "status_code", None) == 413
    assert reads == 3


# --- task arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"kwargs": {"pad": "x" * 64 * 1024}}, "kwargs"),
        ({"args": ["x" * 64 * 1024]}, "args"),
        ({"args": [[[[[[[[[[[1]]]]]]]]]]]}, "args"),  # 11 levels, the list of args included
        (
            {"kwargs": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": {}}}}}}}}}}}},
            "kwargs",
        ),
    ],
)
def test_arguments_over_their_caps_are_a_422_naming_the_field_and_nothing_is_kept(
    client: TestClient,
    alice: Account,
    store: InMemoryStore,
    dispatcher: RecordingTaskDispatcher,
    arguments: dict[str, Any],
    field: str,
) -> None:
    response = client.post(
        TASKS, json={"name": "big", "task_type": "noop", **arguments}, headers=alice.headers
    )

    body = assert_invalid(response, field)
    assert "limit" in body
    assert store.tasks == {}
    assert dispatcher.enqueued == []


def test_argument_caps_follow_the_settings(
    client: TestClient, alice: Account, override_settings: Callable[..., Settings]
) -> None:
    override_settings(max_arguments_bytes=100, max_arguments_depth=2)

    too_big = client.post(
        TASKS,
        json={"name": "t", "task_type": "noop", "kwargs": {"pad": "x" * 100}},
        headers=alice.headers,
    )
    too_deep = client.post(
        TASKS, json={"name": "t", "task_type": "noop", "args": [[[1]]]}, headers=alice.headers
    )

    assert assert_invalid(too_big, "kwargs")["limit"] == 100
    assert assert_invalid(too_deep, "args")["limit"] == 2


def test_an_argument_over_the_size_cap_is_told_the_limit_and_the_setting_that_raises_it(
    client: TestClient, alice: Account
) -> None:
    # 10,000 paths: what bulk_checksum's own schema allows, but over 64 KiB as JSON.
    paths = [f"/data/batch-7/file-{n:05}.csv" for n in range(10_000)]

    response = client.post(
        TASKS,
        json={"name": "all", "task_type": "bulk_checksum", "kwargs": {"paths": paths}},
        headers=alice.headers,
    )

    body = assert_invalid(response, "kwargs")
    [error] = body["errors"]
    assert "over the limit of 65536 bytes" in error["message"]
    assert "TASKHUB_MAX_ARGUMENTS_BYTES" in error["message"]
    assert (body["limit"], body["setting"]) == (65536, "TASKHUB_MAX_ARGUMENTS_BYTES")


def test_an_argument_nested_too_deep_is_told_the_limit_and_its_setting(
    client: TestClient, alice: Account, override_settings: Callable[..., Settings]
) -> None:
    override_settings(max_arguments_depth=2)

    response = client.post(
        TASKS, json={"name": "t", "task_type": "noop", "args": [[[1]]]}, headers=alice.headers
    )

    body = assert_invalid(response, "args")
    assert "limit of 2" in body["errors"][0]["message"]
    assert body["setting"] == "TASKHUB_MAX_ARGUMENTS_DEPTH"


def test_the_task_types_state_the_argument_limits_the_schema_cannot_express(
    client: TestClient, alice: Account, override_settings: Callable[..., Settings]
) -> None:
    override_settings(max_arguments_bytes=1000, max_arguments_depth=3)

    response = client.get(f"{API}/task-types", headers=alice.headers)

    assert response.status_code == 200, response.text
    for task_type in response.json():
        assert (task_type["max_arguments_bytes"], task_type["max_arguments_depth"]) == (1000, 3)
        description = task_type["arguments_schema"]["description"]
        assert "at most 1000 bytes" in description, task_type["name"]
        assert "TASKHUB_MAX_ARGUMENTS_BYTES" in description
        assert "3 levels" in description


# --- the quota -----------------------------------------------------------------------------


def test_the_quota_shows_pending_and_running_tasks_against_the_limit(
    client: TestClient, alice: Account, bob: Account
) -> None:
    first = create_task(client, alice)
    create_task(client, alice)
    create_task(client, bob)
    client.post(f"{TASKS}/{first['id']}/cancel", headers=alice.headers)

    response = client.get(QUOTA, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"active_tasks": {"used": 1, "limit": 20}}


def test_a_full_quota_reads_used_equal_to_limit_and_the_next_submission_is_a_429(
    client: TestClient, alice: Account, override_settings: Callable[..., Settings]
) -> None:
    override_settings(max_active_tasks_per_user=2)
    create_task(client, alice)
    create_task(client, alice)

    quota = client.get(QUOTA, headers=alice.headers).json()
    refused = client.post(TASKS, json={"name": "t", "task_type": "noop"}, headers=alice.headers)

    assert quota == {"active_tasks": {"used": 2, "limit": 2}}
    body = assert_problem(refused, 429)
    assert refused.headers["retry-after"].isdigit()
    assert (body["quota"], body["limit"]) == ("active_tasks", 2)


# --- login throttling ----------------------------------------------------------------------


def login(client: TestClient, email: str, password: str) -> Any:
    return client.post(f"{API}/auth/token", data={"username": email, "password": password})


def test_repeated_failed_logins_are_a_429_with_retry_after_even_for_the_right_password(
    client: TestClient, alice: Account
) -> None:
    failures = [login(client, alice.email, "wrong guess").status_code for _ in range(5)]

    response = login(client, alice.email, PASSWORD)

    assert failures == [401] * 5
    body = assert_problem(response, 429)
    assert body["type"] == "urn:taskhub:problem:too_many_attempts"
    assert response.headers["retry-after"] == "1"
    assert body["retry_after"] == 1

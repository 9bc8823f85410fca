"""Concurrency keys through the API: a submission names a key its type allows, the task
beyond the limit waits unpublished, and its read says what it waits for."""

from __future__ import annotations

from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from tests.unit.http.conftest import Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    complete_task,
    create_task,
    read,
    start_task,
)


def countdown(client: TestClient, account: Account, key: str) -> dict[str, object]:
    return create_task(
        client, account, task_type="countdown", kwargs={"seconds": 1}, concurrency_key=key
    )


def test_a_second_task_of_a_key_waits_unpublished_and_says_for_what(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    first = countdown(client, alice, "deploy-eu")
    second = countdown(client, alice, "deploy-eu")
    other_key = countdown(client, alice, "deploy-us")

    assert [str(e.task_id) for e in dispatcher.enqueued] == [first["id"], other_key["id"]]
    assert second["status"] == "pending"
    assert second["concurrency_key"] == "countdown:deploy-eu"
    waiting = read(client, alice, f"/tasks/{second['id']}")["waiting"]
    assert waiting == {
        "reason": "concurrency",
        "queue": "default",
        "position": None,
        "until": None,
        "concurrency_key": "countdown:deploy-eu",
        "holders": 1,
        "limit": 1,
        "rate_limit": None,
    }


def test_the_held_task_is_released_when_the_run_holding_the_slot_ends(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    first = countdown(client, alice, "deploy-eu")
    second = countdown(client, alice, "deploy-eu")

    complete_task(store, start_task(store, str(first["id"])))

    waiting = read(client, alice, f"/tasks/{second['id']}")["waiting"]
    assert waiting["reason"] == "queued"
    assert waiting["position"] == 0


def test_a_concurrency_key_for_a_type_without_a_rule_is_refused_naming_the_field(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    response = client.post(
        f"{API}/tasks",
        json={"name": "n", "task_type": "noop", "concurrency_key": "k"},
        headers=alice.headers,
    )

    assert_invalid(response, "concurrency_key")
    assert not store.tasks


def test_a_blank_concurrency_key_is_refused_naming_the_field(
    client: TestClient, alice: Account
) -> None:
    response = client.post(
        f"{API}/tasks",
        json={
            "name": "n",
            "task_type": "countdown",
            "kwargs": {"seconds": 1},
            "concurrency_key": "   ",
        },
        headers=alice.headers,
    )

    assert_invalid(response, "concurrency_key")

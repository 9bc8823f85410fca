"""Tasks over HTTP: submit, read, list, change, cancel, delete, quota, and the task types."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from config.settings import Settings
from entrypoints.api_container import ApiContainer
from tests.unit.http.conftest import Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    assert_problem,
    complete_task,
    create_model,
    create_task,
    not_refused,
    start_task,
)

TASKS = f"{API}/tasks"


def without_waiting(body: dict[str, Any]) -> dict[str, Any]:
    """A task as stored: only a read of one pending task says why it waits."""
    return {key: value for key, value in body.items() if key != "waiting"}


def submit(client: TestClient, account: Account, **fields: Any) -> Any:
    body = {"name": "a task", "task_type": "noop", **fields}
    return client.post(TASKS, json=body, headers=account.headers)


def list_ids(client: TestClient, account: Account, **params: Any) -> list[str]:
    response = client.get(TASKS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()["items"]]


def walk_tasks(client: TestClient, account: Account, *, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = client.get(TASKS, params=params, headers=account.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([task["id"] for task in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params["cursor"] = body["next_cursor"]


def forged_cursor(*position: object) -> str:
    raw = json.dumps(list(position)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- submitting ----------------------------------------------------------------------------


def test_submit_stores_a_pending_task_and_queues_it(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    response = submit(client, alice, name="count", task_type="countdown", kwargs={"seconds": 1})

    assert response.status_code == 201, response.text
    task = response.json()
    assert task["status"] == "pending"
    assert (task["name"], task["task_type"]) == ("count", "countdown")
    assert (task["priority"], task["queue"]) == ("normal", "default")
    assert task["kwargs"] == {"seconds": 1.0, "steps": 10}
    assert (task["progress"], task["attempts"], task["max_attempts"]) == (0, 0, 3)
    assert task["user_id"] == alice.id
    assert task["result"] is task["error"] is task["started_at"] is task["completed_at"] is None
    assert [(str(e.task_id), e.queue) for e in dispatcher.enqueued] == [(task["id"], "default")]
    assert store.tasks[UUID(task["id"])].dispatched is True


@pytest.mark.parametrize(
    ("task_type", "kwargs", "priority", "queue"),
    [
        ("file_checksum", {"path": "/data/a"}, "high", "high_priority"),
        ("noop", {}, "normal", "default"),
        ("bulk_checksum", {"paths": ["/data/a"]}, "low", "low_priority"),
    ],
)
def test_submit_defaults_the_priority_to_the_task_types(
    client: TestClient,
    alice: Account,
    dispatcher: RecordingTaskDispatcher,
    task_type: str,
    kwargs: dict[str, Any],
    priority: str,
    queue: str,
) -> None:
    response = submit(client, alice, task_type=task_type, kwargs=kwargs)

    assert response.status_code == 201, response.text
    assert (response.json()["priority"], response.json()["queue"]) == (priority, queue)
    assert dispatcher.enqueued[0].queue == queue


def test_submit_uses_the_priority_the_client_asks_for(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    response = submit(
        client, alice, task_type="bulk_checksum", priority="high", kwargs={"paths": ["/a"]}
    )

    assert (response.json()["priority"], response.json()["queue"]) == ("high", "high_priority")
    assert dispatcher.enqueued[0].queue == "high_priority"


def test_submit_fills_keyword_arguments_from_positional_ones(
    client: TestClient, alice: Account
) -> None:
    response = submit(client, alice, task_type="countdown", args=[2, 4])

    assert response.status_code == 201, response.text
    assert response.json()["args"] == []
    assert response.json()["kwargs"] == {"seconds": 2.0, "steps": 4}


def test_submit_refuses_an_unknown_task_type_and_stores_nothing(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    response = submit(client, alice, task_type="rm_rf")

    body = assert_invalid(response, "task_type")
    assert (
        "valid task types: bulk_checksum, countdown, file_checksum, file_signature, gather, noop"
        in (body["detail"])
    )
    assert body["task_types"] == [
        "bulk_checksum",
        "countdown",
        "file_checksum",
        "file_signature",
        "gather",
        "noop",
    ]
    assert store.tasks == {}
    assert dispatcher.enqueued == []


def test_submit_reports_every_invalid_argument_each_with_its_own_field_and_message(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    kwargs = {"paths": ["a", 2, "c", None], "algorithm": "crc"}

    response = submit(client, alice, task_type="bulk_checksum", kwargs=kwargs)

    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"field": "kwargs.paths.1", "message": "Input should be a valid string"},
        {"field": "kwargs.paths.3", "message": "Input should be a valid string"},
        {
            "field": "kwargs.algorithm",
            "message": "Input should be 'sha256', 'sha1', 'md5' or 'blake2b'",
        },
    ]
    assert body["detail"] == "invalid value for: kwargs.paths.1, kwargs.paths.3, kwargs.algorithm"
    assert store.tasks == {}


def test_submit_says_nan_and_infinity_are_not_json_numbers_naming_each(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    # Python's json (and so the API's body parser) reads these literals; JSON has no such numbers.
    raw = '{"name": "n", "task_type": "countdown", "kwargs": {"seconds": NaN, "steps": Infinity}}'

    response = client.post(
        TASKS, content=raw, headers={**alice.headers, "Content-Type": "application/json"}
    )

    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"field": "kwargs.seconds", "message": "NaN is not allowed: JSON numbers are finite"},
        {"field": "kwargs.steps", "message": "Infinity is not allowed: JSON numbers are finite"},
    ]
    assert store.tasks == {}


BAD_ARGUMENTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "negative seconds": ("countdown", {"seconds": -1}, "kwargs.seconds"),
    "seconds not a number": ("countdown", {"seconds": "soon"}, "kwargs.seconds"),
    "seconds missing": ("countdown", {}, "kwargs.seconds"),
    "zero steps": ("countdown", {"seconds": 1, "steps": 0}, "kwargs.steps"),
    "unknown argument": ("countdown", {"seconds": 1, "shell": "rm -rf /"}, "kwargs.shell"),
    "unknown algorithm": ("file_checksum", {"path": "/a", "algorithm": "crc"}, "kwargs.algorithm"),
    "no paths": ("bulk_checksum", {"paths": []}, "kwargs.paths"),
}


def test_submit_refuses_bad_arguments_naming_the_argument(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    responses = {
        case: submit(client, alice, task_type=task_type, kwargs=kwargs)
        for case, (task_type, kwargs, _) in BAD_ARGUMENTS.items()
    }

    assert not_refused(responses, {case: bad[2] for case, bad in BAD_ARGUMENTS.items()}) == {}
    assert store.tasks == {}


def test_submit_refuses_more_positional_arguments_than_the_type_takes(
    client: TestClient, alice: Account
) -> None:
    response = submit(client, alice, task_type="noop", args=[1])

    assert_invalid(response, "args")


SERVICE_SET_FIELDS: dict[str, object] = {
    "status": "completed",
    "user_id": str(uuid.uuid4()),
    "result": {"ok": True},
    "progress": 100,
    "created_at": "2020-01-01T00:00:00Z",
    "started_at": "2020-01-01T00:00:00Z",
    "completed_at": "2020-01-01T00:00:00Z",
    "id": str(uuid.uuid4()),
    "attempts": 0,
    "error": None,
}


def test_submit_refuses_each_field_only_the_service_sets(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    responses = {
        field: submit(client, alice, **{field: value})
        for field, value in SERVICE_SET_FIELDS.items()
    }

    assert not_refused(responses, {field: field for field in SERVICE_SET_FIELDS}) == {}
    assert store.tasks == {}


def test_submit_refuses_a_priority_that_is_not_high_normal_or_low(
    client: TestClient, alice: Account
) -> None:
    bad = {"urgent": "urgent", "upper case": "HIGH", "a number": 1, "a list": ["high"]}

    responses = {case: submit(client, alice, priority=value) for case, value in bad.items()}

    assert not_refused(responses, dict.fromkeys(bad, "priority")) == {}


def test_submit_takes_a_null_priority_as_the_types_default(
    client: TestClient, alice: Account
) -> None:
    response = submit(
        client, alice, task_type="file_checksum", priority=None, kwargs={"path": "/a"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["priority"] == "high"


def test_submit_refuses_a_blank_or_overlong_name(client: TestClient, alice: Account) -> None:
    bad = {"empty": "", "blank": "   ", "too long": "x" * 201}

    responses = {case: submit(client, alice, name=name) for case, name in bad.items()}

    assert not_refused(responses, dict.fromkeys(bad, "name")) == {}


def test_submit_links_the_callers_own_model(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice)

    response = submit(client, alice, model_id=model["id"])

    assert response.status_code == 201, response.text
    assert response.json()["model_id"] == model["id"]


def test_submit_with_another_users_model_is_not_found_and_stores_nothing(
    client: TestClient, alice: Account, bob: Account, store: InMemoryStore
) -> None:
    alices_model = create_model(client, alice)

    response = submit(client, bob, model_id=alices_model["id"])

    assert_problem(response, 404)
    assert store.tasks == {}


def test_submit_with_an_unknown_model_is_not_found(client: TestClient, alice: Account) -> None:
    response = submit(client, alice, model_id=str(uuid.uuid4()))

    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("task_type", "kwargs"),
    [
        (
            "deploy_model",
            {
                "model_id": str(uuid.uuid4()),
                "artifact_location": "/etc/passwd",
                "artifact_sha256": "a" * 64,
                "deployment_dir": "/srv/anywhere/i/like",
            },
        ),
        (
            "validate_model",
            {
                "model_id": str(uuid.uuid4()),
                "artifact_location": "/etc/shadow",
                "model_type": "custom",
            },
        ),
    ],
)
def test_submit_refuses_the_model_registrys_internal_task_types(
    client: TestClient,
    alice: Account,
    store: InMemoryStore,
    task_type: str,
    kwargs: dict[str, Any],
) -> None:
    response = submit(client, alice, task_type=task_type, kwargs=kwargs)

    assert_invalid(response, "task_type")
    assert store.tasks == {}


# --- reading -------------------------------------------------------------------------------


def test_get_returns_the_task(client: TestClient, alice: Account) -> None:
    task = create_task(client, alice, name="mine")

    response = client.get(f"{TASKS}/{task['id']}", headers=alice.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    # Only a read says why a pending task waits; the rest is the task as submitted.
    assert body["waiting"]["reason"] == "queued"
    assert without_waiting(body) == without_waiting(task)


def test_get_of_an_unknown_task_is_not_found(client: TestClient, alice: Account) -> None:
    missing = uuid.uuid4()

    response = client.get(f"{TASKS}/{missing}", headers=alice.headers)

    body = assert_problem(response, 404)
    assert body["task_id"] == str(missing)


def test_get_with_an_id_that_is_not_a_uuid_names_task_id(
    client: TestClient, alice: Account
) -> None:
    response = client.get(f"{TASKS}/not-a-uuid", headers=alice.headers)

    assert_invalid(response, "task_id")


def test_get_shows_progress_and_result_once_a_worker_finished(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    task = create_task(client, alice)
    complete_task(store, start_task(store, task["id"]), result={"answer": 42})

    response = client.get(f"{TASKS}/{task['id']}", headers=alice.headers)

    body = response.json()
    assert (body["status"], body["progress"], body["attempts"]) == ("completed", 100, 1)
    assert body["result"] == {"answer": 42}
    assert body["started_at"] is not None
    assert body["completed_at"] is not None


# --- listing -------------------------------------------------------------------------------


def test_a_user_lists_only_their_own_tasks(
    client: TestClient, alice: Account, bob: Account
) -> None:
    alices = {create_task(client, alice)["id"] for _ in range(2)}
    create_task(client, bob)

    listed = list_ids(client, alice)

    assert set(listed) == alices


def test_an_admin_lists_everyones_tasks(
    client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    ids = {create_task(client, alice)["id"], create_task(client, bob)["id"]}

    listed = list_ids(client, admin)

    assert set(listed) == ids


def test_listing_is_newest_first(client: TestClient, alice: Account) -> None:
    ids = [create_task(client, alice)["id"] for _ in range(3)]

    listed = list_ids(client, alice)

    assert listed == ids[::-1]


def test_listing_filters_by_status(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    running = create_task(client, alice)
    create_task(client, alice)
    start_task(store, running["id"])

    assert list_ids(client, alice, status="running") == [running["id"]]


def test_listing_filters_by_task_type(client: TestClient, alice: Account) -> None:
    countdown = create_task(client, alice, task_type="countdown", kwargs={"seconds": 0})
    create_task(client, alice)

    assert list_ids(client, alice, task_type="countdown") == [countdown["id"]]


def test_listing_filters_by_priority(client: TestClient, alice: Account) -> None:
    urgent = create_task(client, alice, priority="high")
    create_task(client, alice)

    assert list_ids(client, alice, priority="high") == [urgent["id"]]


def test_listing_filters_by_model(client: TestClient, alice: Account) -> None:
    model = create_model(client, alice)
    linked = create_task(client, alice, model_id=model["id"])
    create_task(client, alice)

    assert list_ids(client, alice, model_id=model["id"]) == [linked["id"]]


def test_listing_filters_by_a_part_of_the_name_in_any_case(
    client: TestClient, alice: Account
) -> None:
    wanted = [create_task(client, alice, name=name)["id"] for name in ("Nightly ETL", "etl 100%")]
    create_task(client, alice, name="backup")

    assert list_ids(client, alice, name="etl") == wanted[::-1]
    assert list_ids(client, alice, name="100%") == [wanted[1]]  # % is not a wildcard
    assert list_ids(client, alice, name="_") == []  # nor is _


@pytest.fixture
def clock(container: ApiContainer) -> FixedClock:
    clock = FixedClock()
    container.core.clock.override(providers.Object(clock))
    return clock


def test_listing_filters_by_a_creation_window_both_ends_exclusive(
    client: TestClient, alice: Account, clock: FixedClock
) -> None:
    created = []
    for _ in range(4):
        created.append(create_task(client, alice))
        clock.advance(minutes=1)
    first, second, third, fourth = (task["id"] for task in created)
    at = [task["created_at"] for task in created]

    assert list_ids(client, alice, created_after=at[1]) == [fourth, third]
    assert list_ids(client, alice, created_before=at[2]) == [second, first]
    assert list_ids(client, alice, created_after=at[0], created_before=at[3]) == [third, second]
    offset = "2026-01-01T13:01:00+01:00"  # 12:01 UTC: the second task's creation
    assert list_ids(client, alice, created_after=offset) == [fourth, third]


def test_keyset_pages_of_a_filtered_listing_walk_every_match_exactly_once(
    client: TestClient, alice: Account, clock: FixedClock
) -> None:
    created = []
    for n in range(9):
        created.append(create_task(client, alice, name=f"report {n}" if n % 3 else f"backup {n}"))
        if n % 2:
            clock.advance(seconds=1)  # pairs share a creation time: the id breaks the tie
    pages = []
    params: dict[str, Any] = {
        "limit": 2,
        "name": "REPORT",
        "created_after": created[0]["created_at"],
    }
    while True:
        body = client.get(TASKS, params=params, headers=alice.headers).json()
        pages.append([task["id"] for task in body["items"]])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    matching = [
        t for t in created if "report" in t["name"] and t["created_at"] > created[0]["created_at"]
    ]
    newest_first = sorted(matching, key=lambda t: (t["created_at"], t["id"]), reverse=True)
    assert [task_id for page in pages for task_id in page] == [t["id"] for t in newest_first]
    assert len(newest_first) == 5
    assert all(len(page) <= 2 for page in pages)


def test_an_admin_lists_one_users_tasks(
    client: TestClient, alice: Account, bob: Account, admin: Account
) -> None:
    alices = [create_task(client, alice)["id"] for _ in range(2)]
    create_task(client, bob)

    assert list_ids(client, admin, user_id=alice.id) == alices[::-1]


def test_a_user_may_name_only_themselves_as_user_id(
    client: TestClient, alice: Account, bob: Account
) -> None:
    mine = create_task(client, alice)["id"]
    create_task(client, bob)

    assert list_ids(client, alice, user_id=alice.id) == [mine]
    assert_problem(client.get(TASKS, params={"user_id": bob.id}, headers=alice.headers), 403)


def test_listing_refuses_a_window_it_cannot_read(client: TestClient, alice: Account) -> None:
    bad = {
        "no time zone": ({"created_after": "2026-01-01T12:00:00"}, "created_after"),
        "not a time": ({"created_before": "yesterday"}, "created_before"),
        "empty window": (
            {"created_after": "2026-01-02T00:00:00Z", "created_before": "2026-01-01T00:00:00Z"},
            "created_before",
        ),
        "empty name": ({"name": ""}, "name"),
        "user_id not a uuid": ({"user_id": "alice"}, "user_id"),
    }

    responses = {
        case: client.get(TASKS, params=params, headers=alice.headers)
        for case, (params, _) in bad.items()
    }

    assert not_refused(responses, {case: field for case, (_, field) in bad.items()}) == {}


def test_listing_refuses_a_bad_query_parameter_naming_it(
    client: TestClient, alice: Account
) -> None:
    bad = {"status": "sleeping", "priority": "urgent", "model_id": "42", "limit": "ten"}

    responses = {
        param: client.get(TASKS, params={param: value}, headers=alice.headers)
        for param, value in bad.items()
    }

    assert not_refused(responses, {param: param for param in bad}) == {}


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
def test_keyset_pages_walk_every_task_exactly_once(
    client: TestClient, alice: Account, limit: int
) -> None:
    created = [create_task(client, alice)["id"] for _ in range(7)]

    pages = walk_tasks(client, alice, limit=limit)

    walked = [task_id for page in pages for task_id in page]
    assert walked == created[::-1]
    assert all(len(page) <= limit for page in pages)
    assert len(pages) == -(-len(created) // limit)


def test_a_page_stays_stable_when_newer_tasks_arrive(client: TestClient, alice: Account) -> None:
    older = [create_task(client, alice)["id"] for _ in range(4)]
    first = client.get(TASKS, params={"limit": 2}, headers=alice.headers).json()
    create_task(client, alice)

    second = list_ids(client, alice, limit=2, cursor=first["next_cursor"])

    assert second == older[::-1][2:]


def test_listing_refuses_a_limit_outside_1_to_the_cap(client: TestClient, alice: Account) -> None:
    limits = {"zero": 0, "one over the cap": 51, "huge": 10**12}

    responses = {
        case: client.get(TASKS, params={"limit": limit}, headers=alice.headers)
        for case, limit in limits.items()
    }

    assert not_refused(responses, dict.fromkeys(limits, "limit")) == {}


def test_listing_accepts_a_limit_at_the_cap(client: TestClient, alice: Account) -> None:
    response = client.get(TASKS, params={"limit": 50}, headers=alice.headers)

    assert response.status_code == 200, response.text


def test_listing_refuses_a_cursor_it_did_not_issue(client: TestClient, alice: Account) -> None:
    create_task(client, alice)
    cursors = {
        "not base64": "garbage!",
        "not json": "bm90IGpzb24",
        "not a date": forged_cursor("yesterday", "x"),
        "numbers": forged_cursor(1, 2),
        "an object": base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        "three parts": forged_cursor("2024-01-01T00:00:00+00:00", "x", "y"),
    }

    responses = {
        case: client.get(TASKS, params={"cursor": cursor}, headers=alice.headers)
        for case, cursor in cursors.items()
    }

    assert not_refused(responses, dict.fromkeys(cursors, "cursor")) == {}


@pytest.mark.parametrize("listing", ["/tasks", "/models", "/users"])
def test_a_forged_cursor_without_a_timezone_is_refused_not_a_server_error(
    client: TestClient, admin: Account, listing: str
) -> None:
    create_task(client, admin)
    create_model(client, admin)  # the listing must have a row to compare the cursor with
    cursor = forged_cursor("2024-01-01T00:00:00", str(uuid.uuid4()))

    response = client.get(f"{API}{listing}", params={"cursor": cursor}, headers=admin.headers)

    assert_invalid(response, "cursor")


# --- changing ------------------------------------------------------------------------------


def test_a_pending_task_is_renamed_and_reprioritised(client: TestClient, alice: Account) -> None:
    task = create_task(client, alice)

    response = client.patch(
        f"{TASKS}/{task['id']}",
        json={"name": "renamed", "priority": "low"},
        headers=alice.headers,
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["priority"], body["queue"]) == ("renamed", "low", "low_priority")
    read = client.get(f"{TASKS}/{task['id']}", headers=alice.headers).json()
    assert without_waiting(read) == without_waiting(body)
    assert read["waiting"]["queue"] == "low_priority"


@pytest.mark.parametrize("change", [{"name": "renamed"}, {"priority": "high"}])
def test_a_running_task_cannot_be_changed(
    client: TestClient, alice: Account, store: InMemoryStore, change: dict[str, str]
) -> None:
    task = create_task(client, alice)
    start_task(store, task["id"])

    response = client.patch(f"{TASKS}/{task['id']}", json=change, headers=alice.headers)

    assert_problem(response, 409)
    after = client.get(f"{TASKS}/{task['id']}", headers=alice.headers).json()
    assert (after["name"], after["priority"]) == (task["name"], task["priority"])


def test_changing_a_task_refuses_fields_beyond_name_and_priority(
    client: TestClient, alice: Account
) -> None:
    task = create_task(client, alice)
    bad = {
        "status": "completed",
        "task_type": "countdown",
        "kwargs": {},
        "user_id": "x",
        "progress": 100,
        "result": 1,
        "name": "",
        "priority": "urgent",
    }

    responses = {
        field: client.patch(f"{TASKS}/{task['id']}", json={field: value}, headers=alice.headers)
        for field, value in bad.items()
    }

    assert not_refused(responses, {field: field for field in bad}) == {}
    read = client.get(f"{TASKS}/{task['id']}", headers=alice.headers).json()
    assert without_waiting(read) == without_waiting(task)


def test_changing_an_unknown_task_is_not_found(client: TestClient, alice: Account) -> None:
    response = client.patch(f"{TASKS}/{uuid.uuid4()}", json={"name": "x"}, headers=alice.headers)

    assert_problem(response, 404)


# --- cancelling and deleting ---------------------------------------------------------------


def test_cancelling_a_pending_task_cancels_it_and_revokes_it(
    client: TestClient, alice: Account, dispatcher: RecordingTaskDispatcher
) -> None:
    task = create_task(client, alice)

    response = client.post(f"{TASKS}/{task['id']}/cancel", headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["completed_at"] is not None
    assert dispatcher.revoked == [UUID(task["id"])]


def test_cancelling_twice_conflicts(client: TestClient, alice: Account) -> None:
    task = create_task(client, alice)
    client.post(f"{TASKS}/{task['id']}/cancel", headers=alice.headers)

    response = client.post(f"{TASKS}/{task['id']}/cancel", headers=alice.headers)

    body = assert_problem(response, 409)
    assert body["task_id"] == task["id"]


def test_cancelling_a_running_task_cancels_it(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    task = create_task(client, alice)
    start_task(store, task["id"])

    response = client.post(f"{TASKS}/{task['id']}/cancel", headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert UUID(task["id"]) in dispatcher.revoked


def test_cancelling_a_completed_task_conflicts(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    task = create_task(client, alice)
    complete_task(store, start_task(store, task["id"]), result="done")

    response = client.post(f"{TASKS}/{task['id']}/cancel", headers=alice.headers)

    assert_problem(response, 409)
    assert client.get(f"{TASKS}/{task['id']}", headers=alice.headers).json()["status"] == (
        "completed"
    )


def test_cancelling_an_unknown_task_is_not_found(client: TestClient, alice: Account) -> None:
    response = client.post(f"{TASKS}/{uuid.uuid4()}/cancel", headers=alice.headers)

    assert_problem(response, 404)


def test_deleting_a_task_removes_it(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    task = create_task(client, alice)

    response = client.delete(f"{TASKS}/{task['id']}", headers=alice.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_problem(client.get(f"{TASKS}/{task['id']}", headers=alice.headers), 404)
    assert store.tasks == {}


def test_deleting_a_running_task_cancels_and_removes_it(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    task = create_task(client, alice)
    start_task(store, task["id"])

    response = client.delete(f"{TASKS}/{task['id']}", headers=alice.headers)

    assert response.status_code == 204, response.text
    assert dispatcher.revoked == [UUID(task["id"])]
    assert store.tasks == {}


def test_deleting_a_finished_task_revokes_nothing(
    client: TestClient, alice: Account, store: InMemoryStore, dispatcher: RecordingTaskDispatcher
) -> None:
    task = create_task(client, alice)
    complete_task(store, start_task(store, task["id"]))

    response = client.delete(f"{TASKS}/{task['id']}", headers=alice.headers)

    assert response.status_code == 204, response.text
    assert dispatcher.revoked == []


def test_deleting_an_unknown_task_is_not_found(client: TestClient, alice: Account) -> None:
    response = client.delete(f"{TASKS}/{uuid.uuid4()}", headers=alice.headers)

    assert_problem(response, 404)


# --- quota ---------------------------------------------------------------------------------


@pytest.fixture
def quota_of_two(override_settings: Callable[..., Settings]) -> Settings:
    return override_settings(max_active_tasks_per_user=2)


@pytest.mark.usefixtures("quota_of_two")
def test_a_submission_over_the_active_task_quota_is_refused_with_retry_after(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    create_task(client, alice)
    create_task(client, alice)

    response = submit(client, alice)

    body = assert_problem(response, 429)
    assert response.headers["retry-after"].isdigit()
    assert (body["quota"], body["limit"]) == ("active_tasks", 2)
    assert len(store.tasks) == 2


@pytest.mark.usefixtures("quota_of_two")
def test_the_quota_counts_running_tasks_but_not_finished_ones(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    running = create_task(client, alice)
    start_task(store, running["id"])
    done = create_task(client, alice)
    complete_task(store, start_task(store, done["id"]))
    create_task(client, alice)

    response = submit(client, alice)

    assert_problem(response, 429)


@pytest.mark.usefixtures("quota_of_two")
def test_the_quota_is_per_user_and_frees_up_on_cancel(
    client: TestClient, alice: Account, bob: Account
) -> None:
    first = create_task(client, alice)
    create_task(client, alice)

    bobs = submit(client, bob)
    client.post(f"{TASKS}/{first['id']}/cancel", headers=alice.headers)
    alices = submit(client, alice)

    assert bobs.status_code == 201, bobs.text
    assert alices.status_code == 201, alices.text


# --- task types ----------------------------------------------------------------------------


def test_task_types_lists_every_submittable_builtin_type_with_its_queue_and_arguments(
    client: TestClient, alice: Account
) -> None:
    response = client.get(f"{API}/task-types", headers=alice.headers)

    assert response.status_code == 200, response.text
    types = {entry["name"]: entry for entry in response.json()}
    assert set(types) == {
        "noop",
        "countdown",
        "file_checksum",
        "file_signature",
        "bulk_checksum",
        "gather",
    }
    queues = {name: (t["default_priority"], t["queue"]) for name, t in types.items()}
    assert queues["file_checksum"] == ("high", "high_priority")
    assert queues["bulk_checksum"] == ("low", "low_priority")
    assert queues["noop"] == ("normal", "default")
    assert all(isinstance(t["arguments_schema"], dict) for t in types.values())
    assert types["countdown"]["arguments_schema"]["required"] == ["seconds"]
    assert set(types["countdown"]["arguments_schema"]["properties"]) == {"seconds", "steps"}

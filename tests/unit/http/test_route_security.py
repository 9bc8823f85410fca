"""Access rules checked on every route the app serves, read from its route table.

A new route is covered the day it is added: it must answer 401 without a token (unless it is
listed as public here), hide other users' resources as 404, and, if it depends on
`admin_user`, refuse users with 403.
"""

from __future__ import annotations

import enum
import json
import typing
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.repositories import InMemoryStore
from entrypoints.http.dependencies import admin_user, current_user, token_subject
from entrypoints.http.routers.events import stream_caller
from tests.unit.http.conftest import Account
from tests.unit.http.route_table import ENDPOINTS, PUBLIC, Endpoint
from tests.unit.http.support import API, PROBLEM_JSON, create_model, create_task, start_task

OWNED_RESOURCE_IDS = ("task_id", "model_id")
PROTECTED = [e for e in ENDPOINTS if (e.method, e.path) not in PUBLIC]
OWNED = [e for e in ENDPOINTS if set(e.path_params) & set(OWNED_RESOURCE_IDS)]
ADMIN = [e for e in ENDPOINTS if e.depends_on(admin_user)]
LISTINGS = [
    e
    for e in PROTECTED
    if e.method == "GET"
    and not e.path_params
    and not e.depends_on(admin_user)
    and "items" in getattr(e.response_model, "model_fields", {})
]


def outcome(response: httpx.Response) -> tuple[int, str | None, str | None]:
    return (
        response.status_code,
        response.headers.get("content-type"),
        response.headers.get("www-authenticate"),
    )


def normalised(response: httpx.Response, ids: dict[str, str]) -> dict[str, Any]:
    text = response.text
    for resource_id in ids.values():
        text = text.replace(resource_id, "<id>")
    body: dict[str, Any] = json.loads(text)
    return body


def snapshot(client: TestClient, owner: Account, ids: dict[str, str]) -> dict[str, Any]:
    task = client.get(f"{API}/tasks/{ids['task_id']}", headers=owner.headers)
    model = client.get(f"{API}/models/{ids['model_id']}", headers=owner.headers)
    return {"task": (task.status_code, task.json()), "model": (model.status_code, model.json())}


# --- the table itself ----------------------------------------------------------------------


def test_the_route_table_holds_every_kind_of_route_these_checks_need() -> None:
    served = {(e.method, e.path) for e in ENDPOINTS}

    assert served >= PUBLIC
    assert {e.path_params[0] for e in OWNED} == set(OWNED_RESOURCE_IDS)
    assert ADMIN
    assert LISTINGS


def test_every_route_but_the_public_ones_depends_on_the_current_user() -> None:
    # Event streams identify the caller by stream_caller: a bearer token, or a stream token;
    # a submission by token_subject, its use case reading the user in its own transaction.
    callers = (current_user, stream_caller, token_subject)
    unguarded = [str(e) for e in PROTECTED if not any(map(e.depends_on, callers))]

    assert unguarded == []


# --- (a) no token --------------------------------------------------------------------------


def test_every_route_but_the_public_ones_answers_401_without_a_token(client: TestClient) -> None:
    outcomes = {str(e): outcome(e.call(client, headers={})) for e in PROTECTED}

    assert outcomes == dict.fromkeys(outcomes, (401, PROBLEM_JSON, "Bearer"))


def test_every_route_that_takes_a_token_answers_401_to_a_forged_one(client: TestClient) -> None:
    forged = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"}
    reads_a_token = [*PROTECTED, *(e for e in ENDPOINTS if e.path.endswith("/auth/register"))]

    outcomes = {str(e): outcome(e.call(client, headers=forged)) for e in reads_a_token}

    assert outcomes == dict.fromkeys(outcomes, (401, PROBLEM_JSON, "Bearer"))


def test_the_public_routes_serve_an_anonymous_caller(client: TestClient) -> None:
    # Registering comes first, so that the login that follows has an account to log in to.
    public = sorted(
        (e for e in ENDPOINTS if (e.method, e.path) in PUBLIC),
        key=lambda e: not e.path.endswith("/auth/register"),
    )

    statuses = {str(e): e.call(client, headers={}).status_code for e in public}

    assert all(200 <= status < 300 for status in statuses.values()), statuses


# --- (b) someone else's resources ----------------------------------------------------------


def test_someone_elses_task_or_model_answers_exactly_like_an_unknown_id(
    client: TestClient,
    alice: Account,
    bob: Account,
    store: InMemoryStore,
    dispatcher: RecordingTaskDispatcher,
) -> None:
    alices = {
        "task_id": create_task(client, alice)["id"],
        "model_id": create_model(client, alice)["id"],
    }
    before = snapshot(client, alice, alices)
    results = {}

    for endpoint in OWNED:
        unknown = {name: str(uuid.uuid4()) for name in alices}
        theirs = endpoint.call(client, bob.headers, alices)
        missing = endpoint.call(client, bob.headers, unknown)
        results[str(endpoint)] = (
            outcome(theirs),
            normalised(theirs, alices) == normalised(missing, unknown),
            snapshot(client, alice, alices) == before,
        )

    assert results == dict.fromkeys(results, ((404, PROBLEM_JSON, None), True, True))
    assert len(store.tasks) == 1
    assert (len(dispatcher.enqueued), dispatcher.revoked) == (1, [])


def test_someone_elses_running_task_cannot_be_cancelled_or_deleted(
    client: TestClient, alice: Account, bob: Account, store: InMemoryStore
) -> None:
    task = create_task(client, alice)
    start_task(store, task["id"])
    destructive = [e for e in OWNED if "task_id" in e.path_params and e.method != "GET"]

    statuses = {
        str(e): e.call(client, bob.headers, {"task_id": task["id"]}).status_code
        for e in destructive
    }

    assert statuses == dict.fromkeys(statuses, 404)
    assert client.get(f"{API}/tasks/{task['id']}", headers=alice.headers).json()["status"] == (
        "running"
    )


# --- (c) admin routes ----------------------------------------------------------------------


def test_every_admin_route_answers_403_to_a_user(
    client: TestClient, alice: Account, bob: Account
) -> None:
    outcomes = {str(e): outcome(e.call(client, alice.headers, {"user_id": bob.id})) for e in ADMIN}

    assert outcomes == dict.fromkeys(outcomes, (403, PROBLEM_JSON, None))
    assert client.get(f"{API}/users/me", headers=bob.headers).json()["is_active"] is True


def test_every_admin_route_answers_401_without_a_token(client: TestClient, bob: Account) -> None:
    outcomes = {str(e): outcome(e.call(client, {}, {"user_id": bob.id})) for e in ADMIN}

    assert outcomes == dict.fromkeys(outcomes, (401, PROBLEM_JSON, "Bearer"))


def test_every_admin_route_lets_an_admin_through(
    client: TestClient, admin: Account, bob: Account
) -> None:
    statuses = {
        str(e): e.call(client, admin.headers, {"user_id": bob.id}).status_code for e in ADMIN
    }

    assert all(200 <= status < 300 for status in statuses.values()), statuses


# --- (d) listings --------------------------------------------------------------------------


@pytest.fixture
def two_users_data(
    client: TestClient, alice: Account, bob: Account, store: InMemoryStore
) -> dict[str, list[str]]:
    """Alice has tasks and models of every kind, and two schedules, workflows and webhooks;
    Bob has one of each."""
    model = create_model(client, alice)
    busy = create_model(client, alice, name="busy")
    client.post(f"{API}/models/{busy['id']}/validate", headers=alice.headers)
    create_task(client, alice, model_id=model["id"])
    create_task(client, alice, task_type="file_checksum", kwargs={"path": "/a"})
    create_task(client, alice, task_type="bulk_checksum", kwargs={"paths": ["/a"]})
    start_task(
        store, create_task(client, alice, task_type="countdown", kwargs={"seconds": 1})["id"]
    )
    cancelled = create_task(client, alice)
    client.post(f"{API}/tasks/{cancelled['id']}/cancel", headers=alice.headers)
    bobs_model = create_model(client, bob)
    create_task(client, bob, model_id=bobs_model["id"])
    for owner, count in ((alice, 2), (bob, 1)):
        for n in range(count):
            schedule = {
                "name": f"every hour {n}",
                "task": {"name": "hourly", "task_type": "noop"},
                "interval_seconds": 3600,
            }
            client.post(f"{API}/schedules", json=schedule, headers=owner.headers)
    for account, names in ((alice, ["a workflow", "another"]), (bob, ["bob's"])):
        for name in names:
            workflow = {"name": name, "tasks": [{"key": "a", "name": "a", "task_type": "noop"}]}
            client.post(f"{API}/workflows", json=workflow, headers=account.headers)
    for account, count in ((alice, 2), (bob, 1)):
        for n in range(count):
            webhook = {"url": f"https://hooks.example.com/{n}", "events": ["task.completed"]}
            client.post(f"{API}/webhooks", json=webhook, headers=account.headers)
    return {
        "model_id": [model["id"], busy["id"], bobs_model["id"]],
        "task_type": ["noop", "countdown", "file_checksum", "bulk_checksum", "validate_model"],
        "user_id": [alice.id, bob.id],
        "name": ["a task", "A TASK", "%", "_"],
        "created_after": ["2000-01-01T00:00:00Z"],
        "created_before": ["2100-01-01T00:00:00Z"],
    }


def query_variants(
    endpoint: Endpoint, client: TestClient, alice: Account, data: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Each query parameter alone with every value worth trying, and Alice's cursors."""
    cursors = alices_cursors(client, alice, endpoint.path)
    samples: dict[str, list[Any]] = {**data, "limit": [1, 2, 50], "cursor": cursors}
    variants: list[dict[str, Any]] = [{}]
    for param in endpoint.dependant.query_params:
        values = _enum_values(param.field_info.annotation) or samples.get(param.name)
        assert values, f"{endpoint}: say which values of ?{param.name} to try"
        variants += [{param.name: value} for value in values]
    variants += [{"cursor": cursor, "limit": 50} for cursor in cursors]
    return variants


def _enum_values(annotation: Any) -> list[str]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, enum.Enum):
            return [member.value for member in candidate]
    return []


def alices_cursors(client: TestClient, alice: Account, path: str) -> list[str]:
    cursors: list[str] = []
    params: dict[str, Any] = {"limit": 1}
    while True:
        page = client.get(path, params=params, headers=alice.headers).json()
        if page.get("next_cursor") is None:  # the last page, or a listing of one page
            return cursors
        cursors.append(page["next_cursor"])
        params["cursor"] = page["next_cursor"]


@pytest.mark.parametrize("listing", LISTINGS, ids=str)
def test_a_listing_never_shows_another_users_rows_whatever_the_query(
    client: TestClient,
    alice: Account,
    bob: Account,
    two_users_data: dict[str, list[str]],
    listing: Endpoint,
) -> None:
    variants = query_variants(listing, client, alice, two_users_data)
    leaks: dict[str, list[str]] = {}
    seen_own = 0

    for params in variants:
        response = client.get(listing.path, params=params, headers=bob.headers)
        if params.get("user_id") == alice.id:  # naming another owner is for admins only
            assert response.status_code == 403, (params, response.text)
            continue
        assert response.status_code == 200, (params, response.text)
        owners = [item["user_id"] for item in response.json()["items"]]
        seen_own += owners.count(bob.id)
        if set(owners) - {bob.id}:
            leaks[json.dumps(params)] = owners

    assert leaks == {}
    assert seen_own > 0  # the queries did find rows, Bob's own


def test_alices_cursor_used_by_bob_only_walks_bobs_rows(
    client: TestClient, alice: Account, bob: Account
) -> None:
    bobs = create_task(client, bob)
    for _ in range(3):
        create_task(client, alice)
    alices_first_page = client.get(f"{API}/tasks", params={"limit": 1}, headers=alice.headers)

    response = client.get(
        f"{API}/tasks",
        params={"cursor": alices_first_page.json()["next_cursor"]},
        headers=bob.headers,
    )

    assert response.status_code == 200, response.text
    assert [item["id"] for item in response.json()["items"]] == [bobs["id"]]

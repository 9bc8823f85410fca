"""Property-level rules on every route, read from the route table: no response carries a
password, secret or token (but the login's own access token), and a request body sets only
the fields its model lists.

A new route is covered the day it is added: it is called here, successfully, and its response
walked.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from config.settings import Settings
from entrypoints.http.schemas.common import StrictRequest
from tests.unit.http.conftest import PASSWORD, Account
from tests.unit.http.route_table import ENDPOINTS, Endpoint
from tests.unit.http.support import (
    API,
    create_model,
    create_task,
    error_fields,
    mark_validated,
)

SECRET_KEY = re.compile(r"password|secret|token", re.IGNORECASE)
# The places a token may travel: the login's answer (RFC 6749 section 5.1), and the
# stream token's, a token good only for reading event streams.
LOGIN = ("POST", f"{API}/auth/token")
STREAM_TOKEN = ("POST", f"{API}/auth/stream-token")
LOGIN_KEYS = {"access_token", "token_type"}
# And a webhook signing secret, shown once: in the answer that creates or rotates it.
SECRET_SHOWN_ONCE = {
    ("POST", f"{API}/webhooks"),
    ("POST", f"{API}/webhooks/callback-secret"),
    ("POST", f"{API}/webhooks/{{webhook_id}}/rotate-secret"),
}


def allowed_keys(method: str, path: str) -> set[str]:
    if (method, path) in (LOGIN, STREAM_TOKEN):
        return LOGIN_KEYS
    return {"secret"} if (method, path) in SECRET_SHOWN_ONCE else set()


BCRYPT_PREFIX = "$2b$"

# Fields the server owns; no request body may set them unless its model declares them.
SERVER_OWNED = [
    "id",
    "user_id",
    "owner_id",
    "status",
    "hashed_password",
    "password_hash",
    "created_at",
    "updated_at",
    "is_admin",
    "is_active",
    "attempts",
    "max_attempts",
    "result",
    "error",
    "progress",
    "queue",
    "dispatched",
    "run_token",
    "request_id",
    "artifact_sha256",
    "deployed_location",
]
JSON_BODIES = [e for e in ENDPOINTS if e.body_model is not None and not e.form]


def secret_keys(value: Any, path: str = "$") -> list[str]:
    """Every key, at any depth, whose name says password, secret or token, as a JSON path."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if SECRET_KEY.search(str(key)):
                found.append(f"{path}.{key}")
            found += secret_keys(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += secret_keys(item, f"{path}[{index}]")
    return found


def leaks(endpoint: Endpoint, response: httpx.Response) -> list[str]:
    if not response.content:
        return []
    allowed = allowed_keys(endpoint.method, endpoint.path)
    found = [key for key in secret_keys(response.json()) if key.split(".")[-1] not in allowed]
    if BCRYPT_PREFIX in response.text:
        found.append("a bcrypt hash")
    return found


def call_order(endpoint: Endpoint) -> tuple[bool, bool, str]:
    # Registering before logging in, so the login has an account; deletions last.
    return (
        not endpoint.path.endswith("/auth/register"),
        endpoint.method == "DELETE",
        str(endpoint),
    )


# These end the caller's sessions: each call gets an account of its own, so the callers'
# tokens keep working for the routes after them.
ENDS_SESSIONS = {("POST", f"{API}/auth/logout"), ("POST", f"{API}/users/me/password")}


def throwaway_account(client: TestClient) -> dict[str, str]:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
    token = client.post(f"{API}/auth/token", data={"username": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def call(
    client: TestClient, endpoint: Endpoint, headers: dict[str, str], ids: dict[str, str]
) -> httpx.Response:
    if (endpoint.method, endpoint.path) in ENDS_SESSIONS and headers:
        headers = throwaway_account(client)
    if (endpoint.method, endpoint.path) != ("POST", f"{API}/users"):
        return endpoint.call(client, headers, ids)
    # Not the sample email: the sign-up route registers that one.
    body = {**(endpoint.body() or {}), "email": "dave@example.com"}
    return client.post(endpoint.path, json=body, headers=headers)


@pytest.fixture
def room_for_tasks(override_settings: Any) -> Settings:
    settings: Settings = override_settings(max_active_tasks_per_user=1000)
    return settings


def fresh_resources(
    client: TestClient, store: InMemoryStore, admin: Account, bob: Account, endpoint: Endpoint
) -> dict[str, str]:
    """A pending task (cancelled, to be re-run), a registered model (validated, for a
    deployment), a schedule, a workflow (cancelled, to delete or retry it) and a webhook
    endpoint with a delivery of the admin's."""
    model = create_model(client, admin, name=f"model-{uuid.uuid4().hex[:8]}")
    if endpoint.path.endswith("/deploy"):
        client.post(f"{API}/models/{model['id']}/validate", headers=admin.headers)
        mark_validated(store, model["id"])
    schedule = client.post(
        f"{API}/schedules",
        json={
            "name": "hourly",
            "task": {"name": "n", "task_type": "noop"},
            "interval_seconds": 3600,
        },
        headers=admin.headers,
    ).json()
    workflow = {"name": "w", "tasks": [{"key": "a", "name": "a", "task_type": "noop"}]}
    workflow_id = client.post(f"{API}/workflows", json=workflow, headers=admin.headers).json()["id"]
    if endpoint.method == "DELETE" or endpoint.path.endswith("/retry"):
        # Deleting and retrying need a finished workflow.
        client.post(f"{API}/workflows/{workflow_id}/cancel", headers=admin.headers)
    webhook = client.post(
        f"{API}/webhooks",
        json={"url": "https://hooks.example.com/in", "events": ["task.pending"]},
        headers=admin.headers,
    ).json()
    task_id = create_task(client, admin)["id"]
    [delivery_id] = [
        str(d.id) for d in store.webhooks.deliveries.values() if str(d.endpoint_id) == webhook["id"]
    ]
    if endpoint.path.endswith("/retry"):  # only a failed or cancelled task is re-run
        client.post(f"{API}/tasks/{task_id}/cancel", headers=admin.headers)
    return {
        "task_id": task_id,
        "model_id": model["id"],
        "user_id": bob.id,
        "schedule_id": schedule["id"],
        "workflow_id": workflow_id,
        "webhook_id": webhook["id"],
        "delivery_id": delivery_id,
    }


# --- no secrets out ------------------------------------------------------------------------


@pytest.mark.usefixtures("room_for_tasks")
def test_no_response_of_any_route_carries_a_password_secret_or_token(
    client: TestClient, store: InMemoryStore, admin: Account, alice: Account, bob: Account
) -> None:
    found: dict[str, list[str]] = {}
    succeeded = set()

    for endpoint in sorted(ENDPOINTS, key=call_order):
        ids = fresh_resources(client, store, admin, bob, endpoint)
        for caller in (admin.headers, alice.headers, {}):
            response = call(client, endpoint, caller, ids)
            if response.is_success:
                succeeded.add(str(endpoint))
            if leaked := leaks(endpoint, response):
                found[f"{endpoint} -> {response.status_code}"] = leaked

    assert found == {}
    assert succeeded == {str(e) for e in ENDPOINTS}  # every route showed a real answer


def test_no_documented_response_schema_has_a_secret_field(client: TestClient) -> None:
    document = client.get(f"{API}/openapi.json").json()
    components = document["components"]["schemas"]
    found = []

    for path, item in document["paths"].items():
        for method, operation in item.items():
            allowed = allowed_keys(method.upper(), path)
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    for name in property_names(media.get("schema", {}), components):
                        if SECRET_KEY.search(name) and name not in allowed:
                            found.append(f"{method.upper()} {path} {status}: {name}")

    assert found == []


def property_names(schema: Any, components: dict[str, Any], seen: Any = None) -> set[str]:
    """Every property name a schema can produce, through $refs, items and combinators."""
    if not isinstance(schema, dict):  # absent, or `additionalProperties: true`
        return set()
    seen = seen if seen is not None else set()
    ref = schema.get("$ref")
    if ref:
        if ref in seen:
            return set()
        seen.add(ref)
        return property_names(components[ref.split("/")[-1]], components, seen)
    names = set(schema.get("properties", {}))
    children = [*schema.get("properties", {}).values()]
    children += schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", [])
    children += [schema.get(key) for key in ("items", "additionalProperties")]
    for child in children:
        names |= property_names(child, components, seen)
    return names


def test_the_secret_walk_finds_a_key_at_any_depth() -> None:
    # Guards the guard: a walk that found nothing would pass the tests above vacuously.
    body = {"items": [{"user": {"Hashed_Password": "x"}}], "api_token": 1, "ok": {"SECRET": 2}}

    assert secret_keys(body) == ["$.items[0].user.Hashed_Password", "$.api_token", "$.ok.SECRET"]


# --- only listed fields in -----------------------------------------------------------------


def test_every_json_body_refuses_unknown_fields() -> None:
    loose = [str(e) for e in JSON_BODIES if not issubclass(e.body_model, StrictRequest)]

    assert JSON_BODIES
    assert loose == []


@pytest.mark.usefixtures("room_for_tasks")
@pytest.mark.parametrize("endpoint", JSON_BODIES, ids=str)
def test_no_body_may_set_a_field_the_server_owns(
    client: TestClient,
    store: InMemoryStore,
    admin: Account,
    bob: Account,
    endpoint: Endpoint,
) -> None:
    ids = fresh_resources(client, store, admin, bob, endpoint)
    declared = set(endpoint.body_model.model_fields) if endpoint.body_model else set()
    url = endpoint.path.format(**{name: ids[name] for name in endpoint.path_params})
    named = {}

    for field in (f for f in SERVER_OWNED if f not in declared):
        body = {**(endpoint.body() or {}), field: "2020-01-01T00:00:00Z"}
        response = client.request(endpoint.method, url, json=body, headers=admin.headers)
        named[field] = (response.status_code, field in error_fields(response.json()))

    assert named == dict.fromkeys(named, (422, True))

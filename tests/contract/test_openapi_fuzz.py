"""The API fuzzed from its own OpenAPI document with schemathesis, in process on in-memory
adapters: whatever the generated request, no 5xx, and every status, content type and body is
one the document declares; every protected operation refuses a caller without a token."""

from __future__ import annotations

import uuid
from typing import Any

import hypothesis
import pytest
import schemathesis
from dependency_injector import providers
from fastapi.testclient import TestClient
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.queue_backlogs import FixedQueueBacklogs
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.in_memory.worker_roster import FixedWorkerRoster
from domain.user import Email
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import PASSWORD, make_settings
from tests.unit.http.route_table import PUBLIC

OPENAPI = "/api/v1/openapi.json"
FUZZER = Email("fuzzer@example.com")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Fixed and bounded, so a CI run is repeatable and takes seconds.
GENERATION = {"max-examples": 25, "deterministic": True, "database": "none"}
CONFIG = schemathesis.Config.from_dict({"seed": 2026, "generation": GENERATION})
# Well-formed requests only, by the operation's own method: what a client without a token
# sends when it means to use the operation. (A body that is not even JSON is refused with 422
# before the token is looked at: FastAPI parses the body before resolving dependencies.)
WELL_FORMED = schemathesis.Config.from_dict(
    {
        "seed": 2026,
        "generation": {**GENERATION, "max-examples": 5, "mode": "positive"},
        "phases": {"coverage": {"enabled": False}},
    }
)


def in_memory_container(store: InMemoryStore) -> ApiContainer:
    container = ApiContainer()
    # Room for every generated submission, so the fuzzer reaches past the quota; and for the
    # sign-ups and failed logins it makes from one address, so its own logins get through.
    settings = make_settings(
        max_active_tasks_per_user=100_000,
        signup_free_attempts=1_000_000,
        login_free_attempts=1_000_000,
    )
    container.core.settings.override(providers.Object(settings))
    container.core.unit_of_work.override(providers.Factory(InMemoryUnitOfWork, store))
    container.core.single_read_unit_of_work.override(providers.Factory(InMemoryUnitOfWork, store))
    container.core.dispatcher.override(providers.Object(RecordingTaskDispatcher()))
    container.core.probes.override(providers.List())
    # The queues read as idle, and never from a thread of their own beside the fuzzer's.
    container.core.queue_backlogs.override(providers.Object(FixedQueueBacklogs()))
    container.core.worker_roster.override(providers.Object(FixedWorkerRoster()))
    return container


# Loaded at import, as schemathesis's pytest integration needs (its fixture-based loader does
# not run on pytest 9); the app on in-memory adapters makes that cheap and side-effect free.
STORE = InMemoryStore()
CONTAINER = in_memory_container(STORE)
APP = create_app(CONTAINER)
schema = schemathesis.openapi.from_asgi(OPENAPI, APP, config=CONFIG)
well_formed = schemathesis.openapi.from_asgi(OPENAPI, APP, config=WELL_FORMED)


@pytest.fixture(scope="module")
def bearer() -> dict[str, str]:
    """A registered user's token."""
    client = TestClient(APP)
    client.post("/api/v1/auth/register", json={"email": str(FUZZER), "password": PASSWORD})
    token = client.post("/api/v1/auth/token", data={"username": str(FUZZER), "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def is_public(ctx: Any) -> bool:
    return (ctx.operation.method.upper(), ctx.operation.path) in PUBLIC


# Operations that end every session of their caller: each gets an account of its own, so
# the shared fuzzer's token keeps working for the rest of the run.
ENDS_SESSIONS = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/users/me/password")}


def headers_for(ctx: Any, bearer: dict[str, str]) -> dict[str, str]:
    if is_public(ctx):
        return {}
    if (ctx.operation.method.upper(), ctx.operation.path) not in ENDS_SESSIONS:
        return bearer
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    client = TestClient(APP)
    client.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD})
    token = client.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@schema.parametrize()
def test_every_operation_answers_as_its_document_says(
    case: schemathesis.Case, bearer: dict[str, str]
) -> None:
    case.call_and_validate(headers=headers_for(case, bearer), checks=CHECKS)


@well_formed.exclude(is_public).parametrize()
def test_every_protected_operation_refuses_a_caller_without_a_token(
    case: schemathesis.Case,
) -> None:
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}

    response = case.call()

    assert response.status_code == 401, response.text


# --- stateful: operations chained through the links schemathesis infers (create -> use) ------


class Workflow(schema.as_state_machine()):
    bearer: dict[str, str] = {}  # noqa: RUF012 - set by the test before it runs
    seen: set[tuple[str, str, int]] = set()  # noqa: RUF012

    def setup(self) -> None:
        # Each scenario starts from the same state (only the caller's account), so that
        # Hypothesis can replay and shrink it.
        users = {id_: user for id_, user in STORE.users.items() if user.email == FUZZER}
        fresh = InMemoryStore()
        for name in vars(fresh):
            setattr(STORE, name, getattr(fresh, name))
        STORE.users = users
        CONTAINER.core.login_throttle.reset()

    def before_call(self, case: schemathesis.Case) -> None:
        # Task types come from the deployment, not the document: without a real one every
        # generated submission is refused and no chain ever starts from a task.
        if (case.method, case.path) == ("POST", "/api/v1/tasks") and isinstance(case.body, dict):
            case.body = {
                "name": "fuzzed",
                "task_type": "noop",
                "priority": case.body.get("priority"),
            }

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
        return {"headers": headers_for(case, self.bearer)}

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        self.seen.add((case.operation.method.upper(), case.operation.path, response.status_code))

    def validate_response(
        self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)


def test_chains_of_linked_operations_keep_to_the_document(bearer: dict[str, str]) -> None:
    Workflow.bearer = bearer

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=50, stateful_step_count=6, derandomize=True, deadline=None, database=None
        )
    )

    # Which links a run follows depends on the whole document and on the process's hash
    # seed; the operations on a created task are checked, always, by the test below.
    assert ("POST", "/api/v1/tasks", 201) in Workflow.seen, sorted(Workflow.seen)


TASK_OPERATIONS = [
    ("GET", "/api/v1/tasks/{task_id}", 200),
    ("PATCH", "/api/v1/tasks/{task_id}", 200),
    ("GET", "/api/v1/tasks/{task_id}/attempts", 200),
    ("GET", "/api/v1/tasks/{task_id}/logs", 200),
    ("POST", "/api/v1/tasks/{task_id}/cancel", 200),
    ("POST", "/api/v1/tasks/{task_id}/retry", 201),
    ("DELETE", "/api/v1/tasks/{task_id}", 204),
]


def test_the_operations_on_a_created_task_answer_as_the_document_says(
    bearer: dict[str, str],
) -> None:
    created = TestClient(APP).post(
        "/api/v1/tasks", json={"name": "followed", "task_type": "noop"}, headers=bearer
    )
    assert created.status_code == 201, created.text
    answered = []
    for method, path, _expected in TASK_OPERATIONS:
        operation = schema[path][method]
        parameters = {"task_id": created.json()["id"]}
        if method == "PATCH":
            case = operation.Case(path_parameters=parameters, body={"name": "renamed"})
        else:
            case = operation.Case(path_parameters=parameters)
        response = case.call(headers=bearer)
        case.validate_response(response, checks=CHECKS)
        answered.append((method, path, response.status_code))

    assert answered == TASK_OPERATIONS

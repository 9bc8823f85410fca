"""Problem documents for every kind of failure, the health probes, and the OpenAPI document."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.in_memory.probe import FixedProbe
from application.errors import DependencyUnavailableError
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import Account
from tests.unit.http.route_table import ENDPOINTS, PUBLIC
from tests.unit.http.support import API, PROBLEM_JSON, assert_problem

OPERATIONS = ("get", "post", "put", "patch", "delete")


class Exploding:
    """A use case that fails the way a bug would."""

    def execute(self, *args: object, **kwargs: object) -> Any:
        raise RuntimeError("secret detail: password=hunter2 at /srv/db")


class Unavailable:
    """A use case whose database is down."""

    def execute(self, *args: object, **kwargs: object) -> Any:
        raise DependencyUnavailableError("database did not answer", dependency="database")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    # The document calls no provider, so an app on a bare container serves it; no lifespan.
    response = TestClient(create_app(ApiContainer())).get(f"{API}/openapi.json")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in OPERATIONS
    }


# --- problem documents ---------------------------------------------------------------------


def test_an_unknown_path_is_a_404_problem(client: TestClient) -> None:
    response = client.get(f"{API}/nothing-here")

    body = assert_problem(response, 404)
    assert body["type"] == "urn:taskhub:problem:not_found"


def test_a_path_outside_the_api_is_a_404_problem_too(client: TestClient) -> None:
    response = client.get("/wp-admin")

    assert_problem(response, 404)


def test_a_wrong_method_is_a_405_problem_that_lists_the_allowed_ones(client: TestClient) -> None:
    response = client.delete(f"{API}/health/live")

    body = assert_problem(response, 405)
    assert body["type"] == "urn:taskhub:problem:method_not_allowed"
    assert response.headers["allow"] == "GET"


def test_a_malformed_json_body_is_a_422_problem(client: TestClient, alice: Account) -> None:
    response = client.post(
        f"{API}/tasks",
        content=b'{"name": "x", ',
        headers={**alice.headers, "content-type": "application/json"},
    )

    body = assert_problem(response, 422)
    assert body["type"] == "urn:taskhub:problem:validation_error"
    assert body["errors"]


def test_a_malformed_json_body_names_the_body_not_a_character_offset(
    client: TestClient, alice: Account
) -> None:
    response = client.post(
        f"{API}/tasks",
        content=b'{"name": "x", ',
        headers={**alice.headers, "content-type": "application/json"},
    )

    body = assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["body"]


def test_a_body_that_is_not_an_object_is_a_422_problem_naming_the_body(
    client: TestClient, alice: Account
) -> None:
    response = client.post(f"{API}/tasks", json=["noop"], headers=alice.headers)

    body = assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["body"]


def test_a_validation_problem_names_every_bad_field(client: TestClient, alice: Account) -> None:
    response = client.post(
        f"{API}/tasks",
        json={"name": "", "priority": "urgent", "status": "done"},
        headers=alice.headers,
    )

    body = assert_problem(response, 422)
    fields = {error["field"] for error in body["errors"]}
    assert fields >= {"name", "task_type", "priority", "status"}
    assert all(error["message"] for error in body["errors"])


def test_an_unexpected_error_is_a_500_problem_that_leaks_nothing(
    client: TestClient, container: ApiContainer, alice: Account
) -> None:
    container.core.explain_wait.override(providers.Object(Exploding()))

    response = client.get(f"{API}/tasks/{uuid.uuid4()}", headers=alice.headers)

    body = assert_problem(response, 500)
    assert body["type"] == "urn:taskhub:problem:internal_error"
    for leak in ("secret detail", "hunter2", "/srv/db", "RuntimeError", "Traceback", ".py"):
        assert leak not in response.text


def test_an_unavailable_dependency_is_a_503_problem_with_retry_after(
    client: TestClient, container: ApiContainer, alice: Account
) -> None:
    container.core.list_tasks.override(providers.Object(Unavailable()))

    response = client.get(f"{API}/tasks", headers=alice.headers)

    body = assert_problem(response, 503)
    assert body["dependency"] == "database"
    assert response.headers["retry-after"].isdigit()


# --- health --------------------------------------------------------------------------------


def test_liveness_answers_ok(client: TestClient) -> None:
    response = client.get(f"{API}/health/live")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


def test_readiness_is_ok_with_no_probes(client: TestClient) -> None:
    response = client.get(f"{API}/health/ready")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {}}


def test_readiness_is_ok_when_every_probe_answers(
    client: TestClient, container: ApiContainer
) -> None:
    container.core.probes.override(
        providers.List(
            providers.Object(FixedProbe("database")), providers.Object(FixedProbe("broker"))
        )
    )

    response = client.get(f"{API}/health/ready")

    assert response.status_code == 200, response.text
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readiness_is_503_naming_the_dependency_that_is_down(
    client: TestClient, container: ApiContainer
) -> None:
    container.core.probes.override(
        providers.List(
            providers.Object(FixedProbe("database")),
            providers.Object(FixedProbe("broker", down=True)),
        )
    )

    response = client.get(f"{API}/health/ready")

    assert response.status_code == 503, response.text
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "broker refused the connection"},
    }


# --- OpenAPI -------------------------------------------------------------------------------


def test_the_openapi_document_lists_every_route_with_a_unique_operation_id(
    openapi: dict[str, Any],
) -> None:
    documented = operations(openapi)

    assert set(documented) == {(e.method, e.path) for e in ENDPOINTS}
    ids = [operation.get("operationId") for operation in documented.values()]
    assert None not in ids
    assert len(ids) == len(set(ids))


def test_the_task_routes_document_their_problem_responses(openapi: dict[str, Any]) -> None:
    task_routes = {key: op for key, op in operations(openapi).items() if "/tasks" in key[1]}
    expected = {
        key: {401, 404, 422} if "{task_id}" in key[1] else {401, 422} for key in task_routes
    }

    documented = {
        key: {
            int(status)
            for status, response in op["responses"].items()
            if PROBLEM_JSON in response.get("content", {})
        }
        for key, op in task_routes.items()
    }

    assert task_routes
    assert {key: documented[key] & expected[key] for key in expected} == expected


def test_problem_responses_are_documented_with_the_problem_schema_under_problem_json(
    openapi: dict[str, Any],
) -> None:
    responses = operations(openapi)[("GET", f"{API}/tasks/{{task_id}}")]["responses"]

    for status in ("401", "404", "422"):
        content = responses[status]["content"]
        assert set(content) == {PROBLEM_JSON}
        assert content[PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_the_token_endpoint_is_documented_as_an_oauth2_password_flow(
    openapi: dict[str, Any],
) -> None:
    schemes = openapi["components"]["securitySchemes"].values()

    flows = [scheme["flows"] for scheme in schemes if scheme["type"] == "oauth2"]

    assert [flow["password"]["tokenUrl"] for flow in flows] == [f"{API}/auth/token"]


def test_routes_that_need_a_token_declare_the_oauth2_security_requirement(
    openapi: dict[str, Any],
) -> None:
    unsecured = [
        key
        for key, op in operations(openapi).items()
        if key not in PUBLIC and not op.get("security")
    ]

    assert unsecured == []

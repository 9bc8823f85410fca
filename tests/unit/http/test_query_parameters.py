"""A query parameter an endpoint does not declare is refused, naming it, on every endpoint: a
mistyped filter must never answer with unfiltered data."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.http.conftest import Account
from tests.unit.http.route_table import ENDPOINTS, Endpoint
from tests.unit.http.support import API, assert_problem, create_task


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_every_endpoint_refuses_a_query_parameter_it_does_not_declare_naming_it(
    client: TestClient, admin: Account, endpoint: Endpoint
) -> None:
    response = endpoint.call(client, headers=admin.headers, params={"surprise": "1"})

    body = assert_problem(response, 422)
    [error] = body["errors"]
    assert error["field"] == "surprise"
    assert "surprise" not in error["message"]  # the field names it; the message says why
    assert error["message"].startswith("Unknown query parameter")


def test_a_mistyped_filter_is_refused_instead_of_listing_everything(
    client: TestClient, alice: Account
) -> None:
    create_task(client, alice)

    response = client.get(
        f"{API}/tasks", params={"stauts": "running", "limit": "5"}, headers=alice.headers
    )

    body = assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["stauts"]
    assert "status" in body["errors"][0]["message"]  # the parameters it does take


def test_each_unknown_parameter_is_named_once(client: TestClient, alice: Account) -> None:
    response = client.get(f"{API}/tasks?a=1&b=2&a=3", headers=alice.headers)

    body = assert_problem(response, 422)
    assert [error["field"] for error in body["errors"]] == ["a", "b"]


def test_the_parameters_an_endpoint_declares_are_still_accepted(
    client: TestClient, alice: Account
) -> None:
    listing = next(e for e in ENDPOINTS if e.method == "GET" and e.path == f"{API}/tasks")
    assert {"status", "limit", "cursor", "name", "created_after"} <= listing.query_params

    response = client.get(
        f"{API}/tasks", params={"status": "pending", "limit": "5"}, headers=alice.headers
    )

    assert response.status_code == 200, response.text

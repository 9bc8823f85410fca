"""What a production API shows to someone without an account: no documentation of its
routes unless asked for, no metrics without their token, and a readiness answer that names
what is down but not the driver's error text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from application.errors import DependencyUnavailableError
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import make_settings
from tests.unit.http.support import API

DOCUMENTS = ["/docs", "/redoc", f"{API}/openapi.json"]
TOKEN = "metrics-scraper-token-0123456789abcdef"


class BrokenDatabase:
    name = "database"

    def check(self) -> None:
        raise DependencyUnavailableError(
            'connection to server at "db.internal" (10.0.0.7), port 5432 failed: '
            'password authentication failed for user "taskhub"',
            dependency="database",
        )


@pytest.fixture
def app_with(container: ApiContainer) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def build(**settings: Any) -> TestClient:
        container.core.settings.override(providers.Object(make_settings(**settings)))
        client = TestClient(create_app(container), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.mark.parametrize("path", DOCUMENTS)
def test_production_serves_no_api_documentation_by_default(
    app_with: Callable[..., TestClient], path: str
) -> None:
    assert app_with(environment="production").get(path).status_code == 404


@pytest.mark.parametrize("path", DOCUMENTS)
def test_the_documentation_is_served_in_production_when_asked_for_and_elsewhere(
    app_with: Callable[..., TestClient], path: str
) -> None:
    assert app_with(environment="production", api_docs=True).get(path).status_code == 200
    assert app_with(environment="test").get(path).status_code == 200


def test_production_without_a_metrics_token_serves_no_metrics(
    app_with: Callable[..., TestClient],
) -> None:
    assert app_with(environment="production").get("/metrics").status_code == 404


def test_metrics_with_a_token_answer_only_the_bearer_of_that_token(
    app_with: Callable[..., TestClient],
) -> None:
    client = app_with(environment="production", metrics_token=TOKEN)

    anonymous = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    right = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert (anonymous.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert "taskhub_http_requests" in right.text


def test_development_metrics_stay_open_without_a_token(
    app_with: Callable[..., TestClient],
) -> None:
    assert app_with(environment="test").get("/metrics").status_code == 200


def test_production_readiness_names_what_is_down_without_its_error_text(
    app_with: Callable[..., TestClient], container: ApiContainer
) -> None:
    container.core.probes.override(providers.List(providers.Object(BrokenDatabase())))

    response = app_with(environment="production").get(f"{API}/health/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "unavailable"}}


def test_readiness_outside_production_says_why_a_dependency_is_down(
    app_with: Callable[..., TestClient], container: ApiContainer
) -> None:
    container.core.probes.override(providers.List(providers.Object(BrokenDatabase())))

    response = app_with(environment="test").get(f"{API}/health/ready")

    assert "password authentication failed" in response.json()["checks"]["database"]

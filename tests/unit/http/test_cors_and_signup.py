"""Who may reach the API: self-registration follows the environment, and browsers on other
origins only when TASKHUB_CORS_ALLOW_ORIGINS lists them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from dependency_injector import providers
from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.unit.http.conftest import PASSWORD, SECRET, make_settings
from tests.unit.http.support import API, assert_problem

FRONT_END = "https://app.example.com"
PREFLIGHT = {
    "Origin": FRONT_END,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


@contextmanager
def serving(**settings: object) -> Iterator[TestClient]:
    """The real app built from these settings (CORS is fixed when the app is built)."""
    container = ApiContainer()
    container.core.settings.override(providers.Object(make_settings(**settings)))
    store = InMemoryStore()
    container.core.unit_of_work.override(providers.Factory(InMemoryUnitOfWork, store))
    container.core.single_read_unit_of_work.override(providers.Factory(InMemoryUnitOfWork, store))
    container.core.probes.override(providers.List())
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def production() -> Iterator[TestClient]:
    with serving(environment="production", secret_key=SECRET) as client:
        yield client


@pytest.fixture
def with_front_end() -> Iterator[TestClient]:
    with serving(cors_allow_origins=FRONT_END) as client:
        yield client


@pytest.fixture
def without_origins() -> Iterator[TestClient]:
    with serving() as client:
        yield client


def register(client: TestClient) -> httpx.Response:
    return client.post(
        f"{API}/auth/register", json={"email": "eve@example.com", "password": PASSWORD}
    )


def test_production_refuses_self_registration_by_default(production: TestClient) -> None:
    body = assert_problem(register(production), 403)

    assert "sign-up is closed" in body["detail"]


def test_production_registers_when_sign_up_is_enabled() -> None:
    with serving(environment="production", secret_key=SECRET, allow_signup=True) as client:
        assert register(client).status_code == 202  # answered alike whether the email is new


def test_a_listed_origin_may_call_the_api_from_a_browser(with_front_end: TestClient) -> None:
    preflight = with_front_end.options(f"{API}/tasks", headers=PREFLIGHT)
    refused = with_front_end.get(f"{API}/tasks", headers={"Origin": FRONT_END})

    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == FRONT_END
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    # Even a refusal carries the header, so the page can read the problem document.
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == FRONT_END
    assert "x-request-id" in refused.headers["access-control-expose-headers"].lower()


def test_an_origin_not_listed_gets_no_cors_permission(with_front_end: TestClient) -> None:
    other = {**PREFLIGHT, "Origin": "https://evil.example.net"}

    preflight = with_front_end.options(f"{API}/tasks", headers=other)
    response = with_front_end.get(f"{API}/health/live", headers={"Origin": other["Origin"]})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in response.headers


def test_without_listed_origins_no_browser_origin_is_allowed(without_origins: TestClient) -> None:
    preflight = without_origins.options(f"{API}/tasks", headers=PREFLIGHT)
    response = without_origins.get(f"{API}/health/live", headers={"Origin": FRONT_END})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in response.headers

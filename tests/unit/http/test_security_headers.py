"""Every answer tells browsers and caches not to keep, sniff or frame it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.unit.http.conftest import PASSWORD, Account
from tests.unit.http.support import API

EXPECTED = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    "content-security-policy": "frame-ancestors 'none'",
}


def security_headers(headers: object) -> dict[str, str]:
    return {name: headers.get(name) for name in EXPECTED}  # type: ignore[attr-defined]


def test_the_login_answer_with_its_token_is_not_stored_by_any_cache(
    client: TestClient, alice: Account
) -> None:
    response = client.post(
        f"{API}/auth/token", data={"username": alice.email, "password": PASSWORD}
    )

    assert response.status_code == 200
    assert security_headers(response.headers) == EXPECTED


@pytest.mark.parametrize(
    "path", ["/users/me", "/tasks", "/task-types", "/tasks/not-a-uuid", "/nowhere", "/openapi.json"]
)
def test_user_data_errors_and_documents_all_carry_the_headers(
    client: TestClient, alice: Account, path: str
) -> None:
    response = client.get(f"{API}{path}", headers=alice.headers)

    assert security_headers(response.headers) == EXPECTED


def test_a_refused_request_carries_the_headers_too(client: TestClient) -> None:
    response = client.get(f"{API}/users/me")

    assert response.status_code == 401
    assert security_headers(response.headers) == EXPECTED

"""The current user, and user administration by admins."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.in_memory.repositories import InMemoryStore
from tests.unit.http.conftest import PASSWORD, Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    assert_problem,
    assert_unauthorized,
    not_refused,
)

USERS = f"{API}/users"


def admin_requests(user_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", USERS, None),
        ("POST", USERS, {"email": "carol@example.com", "password": PASSWORD}),
        ("PATCH", f"{USERS}/{user_id}", {"is_active": False}),
    ]


def walk_users(client: TestClient, admin: Account, *, limit: int) -> list[list[str]]:
    pages: list[list[str]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        response = client.get(USERS, params=params, headers=admin.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([user["email"] for user in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params["cursor"] = body["next_cursor"]


def test_me_returns_the_caller(client: TestClient, alice: Account) -> None:
    response = client.get(f"{USERS}/me", headers=alice.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["email"]) == (alice.id, alice.email)
    assert (body["is_active"], body["is_admin"]) == (True, False)


def test_me_says_when_the_caller_is_an_admin(client: TestClient, admin: Account) -> None:
    response = client.get(f"{USERS}/me", headers=admin.headers)

    assert response.json()["is_admin"] is True


def test_admin_lists_users_page_by_page_each_exactly_once(
    client: TestClient, admin: Account, signup: Callable[..., Account]
) -> None:
    emails = {admin.email} | {signup(f"user{n}@example.com").email for n in range(4)}

    pages = walk_users(client, admin, limit=2)

    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [email for page in pages for email in page]
    assert sorted(listed) == sorted(emails)


def test_user_listing_never_shows_passwords(client: TestClient, admin: Account) -> None:
    response = client.get(USERS, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert "password" not in response.text
    assert "$2b$" not in response.text


def test_user_listing_refuses_a_limit_above_the_cap(client: TestClient, admin: Account) -> None:
    response = client.get(USERS, params={"limit": 51}, headers=admin.headers)

    assert_invalid(response, "limit")


def test_user_listing_refuses_a_cursor_it_did_not_issue(client: TestClient, admin: Account) -> None:
    response = client.get(USERS, params={"cursor": "garbage!"}, headers=admin.headers)

    assert_invalid(response, "cursor")


def test_admin_creates_a_user_who_can_log_in(client: TestClient, admin: Account) -> None:
    response = client.post(
        USERS, json={"email": "Carol@Example.com", "password": PASSWORD}, headers=admin.headers
    )

    assert response.status_code == 201, response.text
    assert response.json()["email"] == "carol@example.com"
    assert response.json()["is_admin"] is False
    login = client.post(
        f"{API}/auth/token", data={"username": "carol@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text


def test_admin_creates_another_admin(client: TestClient, admin: Account) -> None:
    response = client.post(
        USERS,
        json={"email": "root2@example.com", "password": PASSWORD, "is_admin": True},
        headers=admin.headers,
    )

    assert response.status_code == 201, response.text
    assert response.json()["is_admin"] is True


def test_creating_a_user_with_a_taken_email_conflicts(
    client: TestClient, admin: Account, alice: Account
) -> None:
    response = client.post(
        USERS, json={"email": "ALICE@example.com", "password": PASSWORD}, headers=admin.headers
    )

    assert_problem(response, 409)


def test_creating_a_user_refuses_fields_beyond_email_password_and_is_admin(
    client: TestClient, admin: Account
) -> None:
    extra = {"is_active": False, "id": str(uuid.uuid4()), "hashed_password": "$2b$04$x"}
    valid = {"email": "carol@example.com", "password": PASSWORD}

    responses = {
        field: client.post(USERS, json={**valid, field: value}, headers=admin.headers)
        for field, value in extra.items()
    }

    assert not_refused(responses, {field: field for field in extra}) == {}


def test_admin_deactivates_a_user(client: TestClient, admin: Account, alice: Account) -> None:
    response = client.patch(f"{USERS}/{alice.id}", json={"is_active": False}, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False


def test_admin_promotes_a_user_who_then_may_administer(
    client: TestClient, admin: Account, alice: Account
) -> None:
    response = client.patch(f"{USERS}/{alice.id}", json={"is_admin": True}, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["is_admin"] is True
    assert client.get(USERS, headers=alice.headers).status_code == 200


def test_admin_demotes_another_admin(
    client: TestClient, admin: Account, signup: Callable[..., Account]
) -> None:
    other = signup("root2@example.com", admin=True)

    response = client.patch(f"{USERS}/{other.id}", json={"is_admin": False}, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert_problem(client.get(USERS, headers=other.headers), 403)


def test_updating_an_unknown_user_is_not_found(client: TestClient, admin: Account) -> None:
    response = client.patch(
        f"{USERS}/{uuid.uuid4()}", json={"is_active": False}, headers=admin.headers
    )

    assert_problem(response, 404)


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_admin": False}])
def test_an_admin_cannot_deactivate_or_demote_themselves(
    client: TestClient, admin: Account, change: dict[str, bool]
) -> None:
    response = client.patch(f"{USERS}/{admin.id}", json=change, headers=admin.headers)

    assert_problem(response, 409)
    me = client.get(f"{USERS}/me", headers=admin.headers).json()
    assert me["is_active"] is True
    assert me["is_admin"] is True


def test_updating_a_user_refuses_fields_beyond_is_active_and_is_admin(
    client: TestClient, admin: Account, alice: Account
) -> None:
    extra = {
        "email": "x@example.com",
        "password": "new password",
        "id": str(uuid.uuid4()),
        "is_active": "sometimes",
    }

    responses = {
        field: client.patch(f"{USERS}/{alice.id}", json={field: value}, headers=admin.headers)
        for field, value in extra.items()
    }

    assert not_refused(responses, {field: field for field in extra}) == {}
    assert client.get(f"{USERS}/me", headers=alice.headers).json()["email"] == alice.email


def test_updating_a_user_with_a_non_uuid_id_names_user_id(
    client: TestClient, admin: Account
) -> None:
    response = client.patch(f"{USERS}/42", json={"is_active": False}, headers=admin.headers)

    assert_invalid(response, "user_id")


def test_admin_endpoints_are_forbidden_to_users(
    client: TestClient, alice: Account, bob: Account, store: InMemoryStore
) -> None:
    responses = {
        f"{method} {url}": client.request(method, url, json=body, headers=alice.headers)
        for method, url, body in admin_requests(bob.id)
    }

    assert {case: r.status_code for case, r in responses.items()} == dict.fromkeys(responses, 403)
    for response in responses.values():
        assert_problem(response, 403)
    assert len(store.users) == 2  # nobody was created
    assert client.get(f"{USERS}/me", headers=bob.headers).json()["is_active"] is True


def test_admin_endpoints_need_a_token(client: TestClient, alice: Account) -> None:
    responses = {
        f"{method} {url}": client.request(method, url, json=body)
        for method, url, body in admin_requests(alice.id)
    }

    assert {case: r.status_code for case, r in responses.items()} == dict.fromkeys(responses, 401)
    for response in responses.values():
        assert_unauthorized(response)

"""Sign-up, login and what the API does with every kind of bad bearer token."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jose import jwt

from adapters.in_memory.repositories import InMemoryStore
from config.settings import Settings
from entrypoints.api_container import ApiContainer
from tests.unit.http.conftest import PASSWORD, SECRET, Account
from tests.unit.http.support import (
    API,
    assert_invalid,
    assert_problem,
    assert_unauthorized,
    not_refused,
)

REGISTER = f"{API}/auth/register"
TOKEN = f"{API}/auth/token"
ME = f"{API}/users/me"
USER_FIELDS = {"id", "email", "is_active", "is_admin", "created_at"}


def register(client: TestClient, email: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post(REGISTER, json={"email": email, "password": password, **extra})


def login(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    return client.post(TOKEN, data={"username": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_for(subject: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": subject, "iat": now, "exp": now + 600, "jti": "test-token", **changes}
    return {name: value for name, value in claims.items() if value is not None}


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def closed_signup(override_settings: Callable[..., Settings]) -> Settings:
    return override_settings(allow_signup=False)


# --- registering ---------------------------------------------------------------------------


def test_sign_up_answers_202_and_the_account_logs_in(
    client: TestClient, store: InMemoryStore
) -> None:
    response = register(client, "carol@example.com")

    assert response.status_code == 202, response.text
    assert set(response.json()) == {"email", "detail"}
    assert response.json()["email"] == "carol@example.com"
    assert "$2b$" not in response.text
    assert [str(user.email) for user in store.users.values()] == ["carol@example.com"]
    assert login(client, "carol@example.com").status_code == 200


def test_register_stores_the_email_trimmed_and_lower_cased(client: TestClient) -> None:
    response = register(client, "  Carol@Example.COM ")

    assert response.status_code == 202, response.text
    assert response.json()["email"] == "carol@example.com"


def test_sign_up_answers_a_taken_email_exactly_as_a_free_one_and_changes_nothing(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    users_before = dict(store.users)
    spellings = ["alice@example.com", "ALICE@Example.com", " Alice@EXAMPLE.com "]

    taken = [register(client, email, password="another password") for email in spellings]
    free = register(client, "carol@example.com", password="another password")

    assert {r.status_code for r in taken} == {free.status_code} == {202}
    answers = [r.json() for r in taken]
    assert answers == [{**free.json(), "email": "alice@example.com"}] * 3
    assert set(taken[0].headers) == set(free.headers)
    assert {k: v for k, v in store.users.items() if k in users_before} == users_before
    assert login(client, "alice@example.com").status_code == 200
    assert login(client, "alice@example.com", "another password").status_code == 401


def test_an_admin_registering_a_taken_email_is_told_so(
    client: TestClient, admin: Account, alice: Account
) -> None:
    response = client.post(
        REGISTER, json={"email": "ALICE@example.com", "password": PASSWORD}, headers=admin.headers
    )

    body = assert_problem(response, 409)
    assert body["type"] == "urn:taskhub:problem:already_exists"


def test_sign_ups_from_one_address_past_the_free_ones_must_wait(
    client: TestClient, override_settings: Callable[..., Settings], store: InMemoryStore
) -> None:
    override_settings(signup_free_attempts=3)

    answers = [register(client, f"user{n}@example.com") for n in range(5)]

    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert "sign-ups" in answers[3].json()["detail"]
    assert len(store.users) == 3


def test_register_refuses_a_password_longer_than_72_utf8_bytes(
    client: TestClient, store: InMemoryStore
) -> None:
    response = register(client, "carol@example.com", password="é" * 37)  # 74 bytes

    assert_invalid(response, "password")
    assert store.users == {}


def test_register_accepts_a_password_of_exactly_72_utf8_bytes_and_it_logs_in(
    client: TestClient,
) -> None:
    password = "é" * 36  # 72 bytes

    registered = register(client, "carol@example.com", password=password)
    logged_in = login(client, "carol@example.com", password)

    assert registered.status_code == 202, registered.text
    assert logged_in.status_code == 200, logged_in.text


def test_register_refuses_a_password_under_8_characters(client: TestClient) -> None:
    passwords = {"short": "short", "8 bytes but 4 characters": "é" * 4, "empty": ""}

    responses = {
        case: register(client, "carol@example.com", password=password)
        for case, password in passwords.items()
    }

    assert not_refused(responses, dict.fromkeys(passwords, "password")) == {}


def test_register_refuses_a_malformed_email(client: TestClient, store: InMemoryStore) -> None:
    emails = {
        "no at": "not-an-email",
        "no dot in the domain": "carol@localhost",
        "a space": "a b@example.com",
        "empty": "",
        "too long": "a" * 250 + "@example.com",
    }

    responses = {case: register(client, email) for case, email in emails.items()}

    assert not_refused(responses, dict.fromkeys(emails, "email")) == {}
    assert store.users == {}


def test_register_refuses_fields_a_client_must_not_set(
    client: TestClient, store: InMemoryStore
) -> None:
    forbidden = {
        "is_admin": True,
        "is_active": False,
        "id": str(uuid.uuid4()),
        "hashed_password": "$2b$04$x",
        "created_at": "2020-01-01T00:00:00Z",
    }

    responses = {
        field: register(client, "mallory@example.com", **{field: value})
        for field, value in forbidden.items()
    }

    assert not_refused(responses, {field: field for field in forbidden}) == {}
    assert store.users == {}


def test_register_with_a_user_token_is_forbidden(client: TestClient, alice: Account) -> None:
    response = client.post(
        REGISTER, json={"email": "carol@example.com", "password": PASSWORD}, headers=alice.headers
    )

    assert_problem(response, 403)


@pytest.mark.usefixtures("closed_signup")
def test_anonymous_register_is_forbidden_when_signup_is_closed(
    client: TestClient, store: InMemoryStore
) -> None:
    response = register(client, "carol@example.com")

    assert_problem(response, 403)
    assert store.users == {}


@pytest.mark.usefixtures("closed_signup")
def test_an_admin_still_creates_users_when_signup_is_closed(
    client: TestClient, admin: Account
) -> None:
    created = client.post(
        f"{API}/users",
        json={"email": "carol@example.com", "password": PASSWORD},
        headers=admin.headers,
    )
    registered = client.post(
        REGISTER, json={"email": "dave@example.com", "password": PASSWORD}, headers=admin.headers
    )

    assert created.status_code == 201, created.text
    assert registered.status_code == 201, registered.text
    assert login(client, "carol@example.com").status_code == 200


# --- logging in ----------------------------------------------------------------------------


def test_login_returns_a_bearer_token_that_identifies_the_user(
    client: TestClient, alice: Account
) -> None:
    response = login(client, "alice@example.com")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.json()["id"] == alice.id


def test_login_matches_the_email_in_any_case(client: TestClient, alice: Account) -> None:
    response = login(client, " ALICE@example.COM")

    assert response.status_code == 200, response.text


def test_login_failures_look_alike_whatever_went_wrong(client: TestClient, alice: Account) -> None:
    wrong_password = login(client, "alice@example.com", "not the password")
    unknown_email = login(client, "nobody@example.com")
    overlong_password = login(client, "alice@example.com", "x" * 100)
    not_an_email = login(client, "alice")

    bodies = [
        assert_unauthorized(response)
        for response in (wrong_password, unknown_email, overlong_password, not_an_email)
    ]
    assert all(body == bodies[0] for body in bodies)


def test_login_of_a_deactivated_account_fails_like_a_wrong_password(
    client: TestClient, alice: Account, admin: Account
) -> None:
    client.patch(f"{API}/users/{alice.id}", json={"is_active": False}, headers=admin.headers)

    response = login(client, "alice@example.com")

    body = assert_unauthorized(response)
    assert body == assert_unauthorized(login(client, "alice@example.com", "wrong password"))


@pytest.mark.parametrize("missing", ["username", "password"])
def test_login_without_a_form_field_names_it(
    client: TestClient, alice: Account, missing: str
) -> None:
    form = {"username": "alice@example.com", "password": PASSWORD}
    del form[missing]

    response = client.post(TOKEN, data=form)

    assert_invalid(response, missing)


def test_login_with_a_json_body_instead_of_a_form_is_invalid(
    client: TestClient, alice: Account
) -> None:
    response = client.post(TOKEN, json={"username": "alice@example.com", "password": PASSWORD})

    assert_problem(response, 422)


# --- bearer tokens -------------------------------------------------------------------------


def test_a_valid_token_reads_the_current_user(client: TestClient, alice: Account) -> None:
    response = client.get(ME, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "alice@example.com"


def test_a_missing_or_malformed_token_is_unauthorized(client: TestClient, alice: Account) -> None:
    headers = {
        "no header": {},
        "empty header": {"Authorization": ""},
        "scheme only": {"Authorization": "Bearer"},
        "not a jwt": {"Authorization": "Bearer abc"},
        "three garbage parts": {"Authorization": "Bearer a.b.c"},
        "basic credentials": {"Authorization": "Basic YWxpY2VAZXhhbXBsZS5jb206cGFzc3dvcmQ="},
        "token without scheme": {"Authorization": alice.token},
    }

    responses = {case: client.get(ME, headers=sent) for case, sent in headers.items()}

    outcomes = {
        case: (r.status_code, r.headers.get("www-authenticate")) for case, r in responses.items()
    }
    assert outcomes == dict.fromkeys(headers, (401, "Bearer"))
    for response in responses.values():
        assert_unauthorized(response)


def test_a_token_crafted_like_ours_is_accepted_so_the_attacks_below_are_fair(
    client: TestClient, alice: Account
) -> None:
    token = jwt.encode(claims_for(alice.id), SECRET, algorithm="HS256")

    response = client.get(ME, headers=bearer(token))

    assert response.status_code == 200, response.text


def test_an_expired_token_is_unauthorized(client: TestClient, alice: Account) -> None:
    an_hour_ago = int(time.time()) - 3600
    claims = claims_for(alice.id, iat=an_hour_ago - 600, exp=an_hour_ago)
    token = jwt.encode(claims, SECRET, algorithm="HS256")

    response = client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


def test_a_token_without_an_expiry_is_unauthorized(client: TestClient, alice: Account) -> None:
    token = jwt.encode(claims_for(alice.id, exp=None), SECRET, algorithm="HS256")

    response = client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


def test_a_token_whose_subject_is_not_a_uuid_is_unauthorized(
    client: TestClient, alice: Account
) -> None:
    token = jwt.encode(claims_for("alice@example.com"), SECRET, algorithm="HS256")

    response = client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


def test_a_token_missing_a_claim_or_with_a_malformed_one_is_unauthorized(
    client: TestClient, alice: Account
) -> None:
    now = int(time.time())
    changes: dict[str, dict[str, Any]] = {
        "no iat": {"iat": None},
        "no jti": {"jti": None},
        "no sub": {"sub": None},
        "issued in the future": {"iat": now + 3600, "exp": now + 7200},
        "exp a string": {"exp": str(now + 600)},
        "exp a boolean": {"exp": True},
        "sub a number": {"sub": 42},
        "sub the uuid in upper case": {"sub": alice.id.upper()},
        "sub the uuid as a urn": {"sub": f"urn:uuid:{alice.id}"},
    }

    responses = {
        case: client.get(
            ME, headers=bearer(jwt.encode(claims_for(alice.id, **change), SECRET, "HS256"))
        )
        for case, change in changes.items()
    }

    outcomes = {case: r.status_code for case, r in responses.items()}
    assert outcomes == dict.fromkeys(changes, 401)
    for response in responses.values():
        assert_unauthorized(response)


def test_a_token_for_a_user_that_does_not_exist_is_unauthorized(client: TestClient) -> None:
    token = jwt.encode(claims_for(str(uuid.uuid4())), SECRET, algorithm="HS256")

    response = client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


def test_a_token_with_a_tampered_signature_is_unauthorized(
    client: TestClient, alice: Account
) -> None:
    header, payload, signature = alice.token.split(".")
    # The first character carries only signature bits (the last one also carries padding).
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    response = client.get(ME, headers=bearer(f"{header}.{payload}.{flipped}"))

    assert_unauthorized(response)


def test_a_token_with_a_tampered_payload_is_unauthorized(
    client: TestClient, alice: Account, bob: Account
) -> None:
    header, _, signature = alice.token.split(".")
    forged_payload = b64url(claims_for(bob.id))

    response = client.get(ME, headers=bearer(f"{header}.{forged_payload}.{signature}"))

    assert_unauthorized(response)


def test_an_unsigned_alg_none_token_is_unauthorized(client: TestClient, alice: Account) -> None:
    token = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims_for(alice.id))}."

    response = client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


def test_a_token_signed_with_hs384_is_unauthorized(client: TestClient, alice: Account) -> None:
    token = jwt.encode(claims_for(alice.id), SECRET, algorithm="HS384")

    response = client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


def test_a_token_signed_with_another_secret_is_unauthorized(
    client: TestClient, alice: Account
) -> None:
    other_secret = "another-secret-that-is-also-long-enough-987654321"
    token = jwt.encode(claims_for(alice.id), other_secret, algorithm="HS256")

    response = client.get(ME, headers=bearer(token))

    assert_unauthorized(response)


def test_a_token_issued_before_the_account_was_deactivated_stops_working(
    client: TestClient, alice: Account, admin: Account
) -> None:
    assert client.get(ME, headers=alice.headers).status_code == 200

    deactivated = client.patch(
        f"{API}/users/{alice.id}", json={"is_active": False}, headers=admin.headers
    )
    response = client.get(ME, headers=alice.headers)

    assert deactivated.status_code == 200, deactivated.text
    assert_unauthorized(response)


def test_a_token_stays_revoked_when_the_account_is_reactivated(
    client: TestClient, alice: Account, admin: Account
) -> None:
    client.patch(f"{API}/users/{alice.id}", json={"is_active": False}, headers=admin.headers)
    client.patch(f"{API}/users/{alice.id}", json={"is_active": True}, headers=admin.headers)

    assert_unauthorized(client.get(ME, headers=alice.headers))
    assert login(client, alice.email).status_code == 200


# --- ending sessions ------------------------------------------------------------------------

LOGOUT = f"{API}/auth/logout"
CHANGE_PASSWORD = f"{API}/users/me/password"
NEW_PASSWORD = "a brand new passphrase"


def test_logout_ends_every_session_of_the_user_at_once(
    client: TestClient, alice: Account, bob: Account
) -> None:
    second_device = login(client, alice.email).json()["access_token"]

    assert client.post(LOGOUT, headers=alice.headers).status_code == 204

    assert_unauthorized(client.get(ME, headers=alice.headers))
    assert_unauthorized(client.get(ME, headers=bearer(second_device)))
    assert client.get(ME, headers=bob.headers).status_code == 200
    fresh = login(client, alice.email).json()["access_token"]
    assert client.get(ME, headers=bearer(fresh)).status_code == 200


def test_changing_ones_password_ends_every_session_and_the_new_one_logs_in(
    client: TestClient, alice: Account
) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}

    response = client.post(CHANGE_PASSWORD, json=body, headers=alice.headers)

    assert response.status_code == 204, response.text
    assert_unauthorized(client.get(ME, headers=alice.headers))
    assert login(client, alice.email).status_code == 401
    assert login(client, alice.email, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"current_password": "not the password", "new_password": NEW_PASSWORD},
            "current_password",
        ),
        ({"current_password": PASSWORD, "new_password": "12345678"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
    ],
)
def test_a_password_change_needs_the_current_password_and_a_good_new_one(
    client: TestClient, alice: Account, body: dict[str, str], field: str
) -> None:
    assert_invalid(client.post(CHANGE_PASSWORD, json=body, headers=alice.headers), field)

    assert client.get(ME, headers=alice.headers).status_code == 200
    assert login(client, alice.email).status_code == 200


def test_a_password_reset_by_the_operator_revokes_tokens_taken_before(
    client: TestClient, alice: Account, container: ApiContainer
) -> None:
    container.core.create_administrator().execute(email=alice.email, password=NEW_PASSWORD)

    assert_unauthorized(client.get(ME, headers=alice.headers))


def test_register_with_an_invalid_token_is_unauthorized_rather_than_anonymous(
    client: TestClient,
) -> None:
    response = client.post(
        REGISTER,
        json={"email": "carol@example.com", "password": PASSWORD},
        headers=bearer("garbage"),
    )

    assert_unauthorized(response)


@pytest.mark.parametrize("password", ["12345678", "\0\0\0\0\0\0\0\0", "P\0password!!"])
def test_sign_up_refuses_a_common_password_or_one_with_a_control_character(
    client: TestClient, store: InMemoryStore, password: str
) -> None:
    assert_invalid(register(client, "weak@example.com", password), "password")
    assert store.users == {}


@pytest.mark.parametrize(
    "lookalike",
    [
        "alice\u200b@example.com",
        "\u0430lice@example.com",
        "\u202ealice@example.com",
        "alice@example.com.",
    ],
)
def test_a_lookalike_of_an_existing_email_does_not_register(
    client: TestClient, store: InMemoryStore, lookalike: str
) -> None:
    assert register(client, "alice@example.com").status_code == 202

    assert_invalid(register(client, lookalike), "email")
    assert len(store.users) == 1


def test_a_fullwidth_spelling_of_an_existing_email_is_the_same_account(
    client: TestClient, store: InMemoryStore
) -> None:
    assert register(client, "alice@example.com").status_code == 202

    # Answered like a new sign-up (nothing confirms the account exists), and not a second one.
    assert register(client, "\uff41lice@example.com").status_code == 202
    assert len(store.users) == 1
    assert login(client, "\uff41lice@EXAMPLE.com").status_code == 200


# --- a submission reads its caller in its own transaction: the same rules, at once ----------

SUBMIT = f"{API}/tasks"
A_TASK = {"name": "a task", "task_type": "noop"}


def test_a_submission_with_a_token_of_a_deactivated_account_is_refused_and_stores_nothing(
    client: TestClient, alice: Account, admin: Account, store: InMemoryStore
) -> None:
    assert client.post(SUBMIT, json=A_TASK, headers=alice.headers).status_code == 201
    client.patch(f"{API}/users/{alice.id}", json={"is_active": False}, headers=admin.headers)

    assert_unauthorized(client.post(SUBMIT, json=A_TASK, headers=alice.headers))
    assert len(store.tasks) == 1


def test_a_submission_with_a_token_from_before_a_password_change_is_refused(
    client: TestClient, alice: Account, store: InMemoryStore
) -> None:
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    assert client.post(CHANGE_PASSWORD, json=body, headers=alice.headers).status_code == 204

    assert_unauthorized(client.post(SUBMIT, json=A_TASK, headers=alice.headers))
    fresh = login(client, alice.email, NEW_PASSWORD).json()["access_token"]
    assert client.post(SUBMIT, json=A_TASK, headers=bearer(fresh)).status_code == 201
    assert len(store.tasks) == 1


def test_a_submission_of_a_deactivated_account_is_refused_before_its_body_is_judged(
    client: TestClient, alice: Account, admin: Account
) -> None:
    client.patch(f"{API}/users/{alice.id}", json={"is_active": False}, headers=admin.headers)

    # As with every other route: who may ask comes before what they ask.
    assert_unauthorized(
        client.post(SUBMIT, json={**A_TASK, "task_type": "no such type"}, headers=alice.headers)
    )

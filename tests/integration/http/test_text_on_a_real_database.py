"""NUL and other control characters in what clients send: a 422 naming the field, never a
500 from the database (PostgreSQL cannot store NUL) with the statement logged."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.unit.http.conftest import PASSWORD
from tests.unit.http.support import API, assert_invalid


def _sign_up_and_log_in(client: TestClient) -> dict[str, str]:
    email = "ada@example.com"
    created = client.post(f"{API}/auth/register", json={"email": email, "password": PASSWORD})
    assert created.status_code == 202, created.text
    token = client.post(f"{API}/auth/token", data={"username": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_a_nul_in_the_login_name_is_a_422_naming_username_not_a_server_error(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.post(
            f"{API}/auth/token", data={"username": "ada\x00@example.com", "password": PASSWORD}
        )

    assert_invalid(response, "username")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_nul_in_an_email_at_sign_up_is_a_422_naming_email(client: TestClient) -> None:
    response = client.post(
        f"{API}/auth/register", json={"email": "ada\x00@example.com", "password": PASSWORD}
    )

    assert_invalid(response, "email")


def test_a_nul_in_a_task_type_filter_is_a_422_naming_task_type(client: TestClient) -> None:
    headers = _sign_up_and_log_in(client)

    response = client.get(f"{API}/tasks", params={"task_type": "noop\x00"}, headers=headers)

    assert_invalid(response, "task_type")


def test_a_nul_in_a_model_artifact_path_is_a_422_naming_artifact_location(
    client: TestClient,
) -> None:
    headers = _sign_up_and_log_in(client)
    body = {"name": "m", "model_type": "onnx", "artifact_location": "a\x00.onnx"}

    response = client.post(f"{API}/models", json=body, headers=headers)

    assert_invalid(response, "artifact_location")


def test_a_lone_surrogate_in_args_is_a_422_naming_args_and_nothing_is_stored(
    client: TestClient,
) -> None:
    headers = _sign_up_and_log_in(client)
    # A lone surrogate can only arrive escaped: raw, it would not be UTF-8.
    body = b'{"name": "t", "task_type": "noop", "args": ["\\ud800"]}'

    response = client.post(
        f"{API}/tasks", content=body, headers={**headers, "content-type": "application/json"}
    )

    assert_invalid(response, "args")
    assert client.get(f"{API}/tasks", headers=headers).json()["items"] == []

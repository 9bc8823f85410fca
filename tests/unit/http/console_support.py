"""Signing in to the console and posting its forms from a TestClient, as a browser would."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.unit.http.conftest import PASSWORD, Account

CSRF = "taskhub_csrf"


def csrf(client: TestClient) -> str:
    if CSRF not in client.cookies:
        client.get("/ui/login")
    return str(client.cookies[CSRF])


def sign_in(client: TestClient, account: Account) -> None:
    response = client.post(
        "/ui/login",
        data={"email": account.email, "password": PASSWORD, "csrf_token": csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/ui/tasks"


def post(client: TestClient, url: str, **data: str) -> object:
    return client.post(url, data={**data, "csrf_token": csrf(client)}, follow_redirects=False)


def submit_rest(client: TestClient, account: Account, name: str, **kwargs: object) -> str:
    body = {"name": name, "task_type": "countdown", "kwargs": kwargs or {"seconds": 1}}
    response = client.post("/api/v1/tasks", json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])

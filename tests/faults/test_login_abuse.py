"""Password guessing against a real API process (`taskhub api`, its Redis login throttle):
guesses from one address never keep the account's owner out at another, and an address is
what the TCP peer is, whatever X-Forwarded-For a peer that is not the proxy sends.

The addresses are loopback ones (127.0.0.2, ...): every one of them reaches the API on
127.0.0.1, and the API sees each as a client of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import httpx
import pytest

from tests.e2e.api_client import API
from tests.faults.stack import FaultStack
from tests.support.databases import migrated_database
from tests.support.redis_server import RedisServer

PASSWORD = "correct horse battery"
FREE_ATTEMPTS = 5  # TASKHUB_LOGIN_FREE_ATTEMPTS's default
PROXY = "127.0.0.1"  # the API's trusted proxy in these tests


@pytest.fixture(scope="module")
def api(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One API process on SQLite, trusting X-Forwarded-For from 127.0.0.1 only."""
    directory = tmp_path_factory.mktemp("login-abuse")
    with migrated_database("sqlite", directory) as database_url:
        stack = FaultStack(
            database_url=database_url, broker_url=redis_server.url, directory=directory
        )
        try:
            yield stack.start_api(TASKHUB_FORWARDED_ALLOW_IPS=PROXY)
        finally:
            stack.stop()


def client_at(api: str, address: str) -> httpx.Client:
    """An HTTP client whose connections come from `address`."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=api + API, transport=transport, timeout=30, trust_env=False)


def login(http: httpx.Client, email: str, password: str, **headers: str) -> httpx.Response:
    return http.post("/auth/token", data={"username": email, "password": password}, headers=headers)


def registered(api: str) -> str:
    email = f"owner-{uuid4().hex[:10]}@example.com"
    with client_at(api, PROXY) as http:
        response = http.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 202, response.text
    return email


def test_guessing_from_other_addresses_never_keeps_the_owner_out(api: str) -> None:
    email = registered(api)
    guessers = [f"127.0.1.{n}" for n in range(1, 4)]

    answers = []
    for address in guessers:
        with client_at(api, address) as http:
            answers += [login(http, email, "wrong guess").status_code for _ in range(7)]
    with client_at(api, "127.0.2.1") as owner:
        owner_answer = login(owner, email, PASSWORD)
    with client_at(api, guessers[0]) as guesser:
        guesser_answer = login(guesser, email, PASSWORD)

    # Each guessing address is slowed down on its own: five failures, then 429s.
    assert answers == ([401] * FREE_ATTEMPTS + [429] * 2) * len(guessers)
    assert owner_answer.status_code == 200, owner_answer.text
    assert owner_answer.json()["access_token"]
    # A guessing address waits even with the right password: it has not earned a try yet.
    assert guesser_answer.status_code == 429
    assert int(guesser_answer.headers["Retry-After"]) >= 1


def test_x_forwarded_for_from_a_peer_that_is_not_the_proxy_does_not_change_its_address(
    api: str,
) -> None:
    with client_at(api, "127.0.3.1") as http:
        answers = [
            login(
                http,
                f"user{n}@example.com",
                "wrong guess",
                **{"X-Forwarded-For": f"198.51.100.{n}"},
            )
            for n in range(FREE_ATTEMPTS + 2)
        ]

    # Every guess counted against 127.0.3.1, whatever address the header claimed.
    assert [a.status_code for a in answers] == [401] * FREE_ATTEMPTS + [429] * 2


def test_x_forwarded_for_from_the_trusted_proxy_names_the_client(api: str) -> None:
    with client_at(api, PROXY) as http:
        answers = [
            login(
                http, f"user{n}@example.com", "wrong guess", **{"X-Forwarded-For": f"203.0.113.{n}"}
            )
            for n in range(FREE_ATTEMPTS + 2)
        ]

    # Each guess came, as far as the proxy says, from a client of its own.
    assert [a.status_code for a in answers] == [401] * (FREE_ATTEMPTS + 2)

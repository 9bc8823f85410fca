"""One user's submissions racing each other against a real API process, on SQLite and on
PostgreSQL: the active-task quota holds however many arrive at once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e.api_client import ApiClient
from tests.faults.conftest import RecordFigures
from tests.faults.stack import FaultStack, api_alone, every_task, racing_client
from tests.support.databases import database_backends
from tests.support.redis_server import RedisServer

LIMIT = 10
BATCHES = 16
BATCH_SIZE = 5
SINGLES = 32


@pytest.fixture(scope="module", params=database_backends())
def api(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FaultStack]:
    """An API process alone, with a quota of LIMIT: no worker, so every task stays pending."""
    directory = tmp_path_factory.mktemp(f"quota-race-{request.param}")
    with api_alone(
        request.param,
        broker_url=redis_server.url,
        directory=directory,
        TASKHUB_MAX_ACTIVE_TASKS_PER_USER=str(LIMIT),
    ) as stack:
        yield stack


@pytest.fixture
def client(api: FaultStack) -> Iterator[ApiClient]:
    """A fresh user, with a connection for each request sent at once."""
    with racing_client(api, connections=max(BATCHES, SINGLES), timeout=60) as racing:
        yield racing


def all_at_once(count: int, send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    start = threading.Barrier(count)

    def request(n: int) -> httpx.Response:
        start.wait()
        return send(n)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(request, range(count)))


def noop(name: str) -> dict[str, Any]:
    return {"name": name, "task_type": "noop"}


def test_racing_batches_never_take_a_user_past_the_active_task_quota(
    client: ApiClient, figures: RecordFigures
) -> None:
    answers = all_at_once(
        BATCHES,
        lambda n: client.http.post(
            "/tasks/batch",
            json={"tasks": [noop(f"batch {n} task {k}") for k in range(BATCH_SIZE)]},
        ),
    )
    stored = every_task(client)

    codes = Counter(answer.status_code for answer in answers)
    figures(batches=BATCHES, accepted=codes[201], refused=codes[429], active=len(stored))
    assert set(codes) <= {201, 429}, [a.text for a in answers if a.status_code not in (201, 429)]
    assert codes[201] == LIMIT // BATCH_SIZE
    assert len(stored) == LIMIT
    assert all(task["status"] == "pending" for task in stored)


def test_racing_single_submissions_never_take_a_user_past_the_active_task_quota(
    client: ApiClient, figures: RecordFigures
) -> None:
    answers = all_at_once(SINGLES, lambda n: client.http.post("/tasks", json=noop(f"single {n}")))
    stored = every_task(client)

    codes = Counter(answer.status_code for answer in answers)
    figures(submissions=SINGLES, accepted=codes[201], refused=codes[429], active=len(stored))
    assert set(codes) <= {201, 429}, [a.text for a in answers if a.status_code not in (201, 429)]
    assert codes[201] == LIMIT
    assert len(stored) == LIMIT

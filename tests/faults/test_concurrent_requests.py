"""Fifty cancels and fifty renames of one task at once, against a real API process (uvicorn
and its thread pool), on SQLite and on PostgreSQL: no 5xx, no deadlock, one outcome."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.api_client import ApiClient
from tests.faults.conftest import RecordFigures
from tests.faults.stack import FaultStack, api_alone, racing_client
from tests.support.databases import database_backends
from tests.support.redis_server import RedisServer

CANCELS = 50
RENAMES = 50
ANSWER_BOUND_SECONDS = 10.0


@pytest.fixture(scope="module", params=database_backends())
def api(
    request: pytest.FixtureRequest,
    redis_server: RedisServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FaultStack]:
    """An API process alone: no worker, so the task stays pending until cancelled."""
    directory = tmp_path_factory.mktemp(f"concurrent-{request.param}")
    with api_alone(request.param, broker_url=redis_server.url, directory=directory) as stack:
        yield stack


@pytest.fixture
def client(api: FaultStack) -> Iterator[ApiClient]:
    with racing_client(api, connections=CANCELS + RENAMES, timeout=30) as racing:
        yield racing


def test_fifty_cancels_and_renames_of_one_task_at_once_agree_on_one_outcome(
    client: ApiClient, figures: RecordFigures
) -> None:
    task = client.submit("noop")
    start = threading.Barrier(CANCELS + RENAMES)

    def request(kind: str, number: int) -> tuple[str, int, str, dict[str, object], float]:
        start.wait()
        began = time.monotonic()
        if kind == "cancel":
            response = client.http.post(f"/tasks/{task['id']}/cancel")
        else:
            response = client.http.patch(f"/tasks/{task['id']}", json={"name": f"rename {number}"})
        return kind, response.status_code, response.text, response.json(), time.monotonic() - began

    # Interleaved, so neither kind is sent first.
    plan = [job for n in range(CANCELS) for job in (("cancel", n), ("rename", n))]
    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        answers = list(pool.map(lambda job: request(*job), plan))
    stored = client.task(task["id"])

    codes = Counter((kind, status) for kind, status, *_ in answers)
    renamed = [
        body["name"] for kind, status, _, body, _ in answers if (kind, status) == ("rename", 200)
    ]
    slowest = max(seconds for *_, seconds in answers)
    figures(
        requests=len(answers),
        cancel_200=codes["cancel", 200],
        cancel_409=codes["cancel", 409],
        rename_200=codes["rename", 200],
        rename_409=codes["rename", 409],
        server_errors=sum(status >= 500 for _, status, *_ in answers),
        slowest_answer_seconds=slowest,
    )
    assert not [a for a in answers if a[1] >= 500], [a[:3] for a in answers if a[1] >= 500]
    assert not [text for _, _, text, _, _ in answers if "locked" in text.lower()]
    assert slowest < ANSWER_BOUND_SECONDS
    # One cancel wins; every other finds the task cancelled already.
    assert codes["cancel", 200] == 1, codes
    assert codes["cancel", 409] == CANCELS - 1, codes
    assert codes["rename", 200] + codes["rename", 409] == RENAMES, codes
    assert stored["status"] == "cancelled"
    for kind, status, _, body, _ in answers:
        if status == 200:
            assert body["status"] == ("cancelled" if kind == "cancel" else "pending"), body
        else:
            assert body["status"] == 409, body
    # A rename that was answered 200 happened before the cancel, the stored name is the last.
    assert stored["name"] in [task["name"], *renamed]
    if renamed:
        assert stored["name"] != task["name"]

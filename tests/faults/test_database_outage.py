"""The database goes away while a task is finishing, and comes back.

A PostgreSQL cluster of the module's own (initdb in a temporary directory, a free loopback
port) is stopped with `pg_ctl stop -m fast`, every connection cut, while a task runs: the API
answers 503 problem documents, readiness names the database, and the worker keeps the
result it computed until it can write it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from adapters.sqlalchemy.migrate import upgrade_database
from tests.e2e.api_client import ApiClient, wait_until
from tests.faults.conftest import RecordFigures
from tests.faults.journal import Journal
from tests.faults.postgres_cluster import PostgresCluster, unavailable_reason
from tests.faults.stack import FaultStack, fault_stack
from tests.support.redis_server import RedisServer

RUN_SECONDS = 2.0
PAST_THE_RESULT_SECONDS = 2.0  # the worker retries its write meanwhile
ANSWER_SECONDS = 5.0  # a connect timeout (3 s) at most; nothing may hang
LEAKS = ("Traceback", "psycopg", "sqlalchemy", "OperationalError", "127.0.0.1")


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with PostgresCluster() as started:
        upgrade_database(started.url)
        yield started


@pytest.fixture(scope="module")
def stack(
    cluster: PostgresCluster, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    directory = tmp_path_factory.mktemp("database-outage")
    with fault_stack(
        database_url=cluster.url, broker_url=redis_server.url, directory=directory
    ) as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: FaultStack) -> Iterator[ApiClient]:
    with stack.client().sign_up() as api:
        yield api


def timed(
    request: httpx.Client, method: str, url: str, **kwargs: object
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = request.request(method, url, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - started


def test_a_database_outage_answers_503_and_loses_no_computed_result(
    stack: FaultStack,
    client: ApiClient,
    cluster: PostgresCluster,
    journal: Journal,
    figures: RecordFigures,
) -> None:
    task = client.submit("journaled_sleep", journal=str(journal.path), seconds=RUN_SECONDS)
    client.wait_for(
        task["id"],
        lambda t: t["status"] == "running" and t["progress"] > 0,
        timeout=20,
        what="to run",
    )

    cluster.stop("fast")
    down = time.monotonic()
    answers = [
        timed(client.http, "GET", f"/tasks/{task['id']}"),
        timed(client.http, "GET", "/tasks"),
        timed(
            client.http,
            "POST",
            "/tasks",
            json={"name": "during", "task_type": "noop", "kwargs": {}},
        ),
        timed(client.http, "POST", f"/tasks/{task['id']}/cancel"),
    ]
    ready, ready_seconds = timed(
        httpx.Client(trust_env=False), "GET", f"{stack.api_url}/api/v1/health/ready"
    )
    wait_until(
        lambda: journal.completions()[task["id"]],
        timeout=RUN_SECONDS + 5,
        what="the run to compute its result",
    )
    time.sleep(PAST_THE_RESULT_SECONDS)
    cluster.start()
    up = time.monotonic()
    done = client.wait_for_status(task["id"], "completed", timeout=40)
    recovery = time.monotonic() - up
    everything = client.http.get("/tasks", params={"limit": 100}).json()["items"]

    assert stack.worker is not None
    retried_writes = stack.worker.log_text().count("the database is unavailable (")
    figures(
        submitted=1,
        completed=int(done["status"] == "completed"),
        failed=0,
        lost=0 if done["status"] == "completed" else 1,
        duplicates=max(journal.completions()[task["id"]] - 1, 0),
        runs=journal.starts()[task["id"]],
        worker_write_retries=retried_writes,
        outage_seconds=up - down,
        recovery_seconds=recovery,
    )
    for response, seconds in answers:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["status"] == 503
        assert problem["type"].startswith("urn:taskhub:problem:")
        assert "database" in problem["detail"]
        leaks = [*LEAKS, str(cluster.port)]
        assert not [leak for leak in leaks if leak in response.text], response.text
        assert seconds < ANSWER_SECONDS
    assert ready.status_code == 503, ready.text
    assert ready.json()["checks"]["broker"] == "ok"
    assert "database" in ready.json()["checks"]["database"]
    assert ready_seconds < ANSWER_SECONDS
    # The result computed during the outage is the one stored: one run, not a second one.
    assert done["attempts"] == 1, done
    assert done["result"] == {"slept": RUN_SECONDS, "attempt": 1}
    assert journal.starts()[task["id"]] == 1
    assert journal.completions()[task["id"]] == 1
    assert retried_writes > 0
    # Nothing half-written: the one task there is, complete; the refused submission absent.
    assert [t["id"] for t in everything] == [task["id"]]
    assert done["progress"] == 100
    assert done["error"] is None
    assert done["completed_at"] is not None
    assert client.http.get("/health/ready").status_code == 200

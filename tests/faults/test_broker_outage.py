"""Redis stopped during a burst of submissions, and restarted under a running worker.

API, worker and Beat run on a redis-server this module started on a port of its own; the
test stops it the way a persistent production Redis stops (SHUTDOWN SAVE: what it held
comes back on restart, like the compose file's Redis with its append-only file) while
clients keep submitting over HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis

from tests.e2e.api_client import ApiClient, wait_until
from tests.faults.conftest import RecordFigures
from tests.faults.journal import Journal
from tests.faults.stack import FaultStack, sqlite_fault_stack
from tests.support.redis_server import RedisServer

SUBMISSIONS = 100
STOP_AFTER = 30  # acknowledged submissions before Redis stops
OUTAGE_SECONDS = 4.0  # longer than the relay's and the reaper's intervals (1 s)
FAST_ANSWER_SECONDS = 2.5  # the broker timeout is 2 s; nothing may wait longer


@pytest.fixture(scope="module")
def stack(
    redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultStack]:
    directory = tmp_path_factory.mktemp("broker-outage")
    with sqlite_fault_stack(broker_url=redis_server.url, directory=directory) as started:
        yield started


@pytest.fixture(scope="module")
def client(stack: FaultStack) -> Iterator[ApiClient]:
    with stack.client().sign_up() as api:
        yield api


def shut_down_saving(server: RedisServer) -> None:
    """What a persistent Redis does on SIGTERM: save everything, then exit."""
    connection = redis.Redis.from_url(server.url)
    try:
        connection.shutdown(save=True)
    except redis.ConnectionError:
        pass  # the server closed the connection on its way out: that is the answer
    finally:
        connection.close()
    wait_until(lambda: not server.running, timeout=10, what="redis-server to exit")
    server.stop()  # reaps the process


class Burst:
    """Submissions from a few client threads; each answer's status and duration kept."""

    def __init__(self, client: ApiClient, journal: Journal) -> None:
        self.client = client
        self.journal = journal
        self.lock = threading.Lock()
        self.answers: list[tuple[int, float, str | None, bool]] = []
        self.broker_down = threading.Event()

    def submit(self, number: int) -> None:
        during_outage = self.broker_down.is_set()
        body = {
            "name": f"burst {number}",
            "task_type": "journaled_sleep",
            "kwargs": {"journal": str(self.journal.path), "seconds": 0.02},
        }
        started = time.monotonic()
        response = self.client.http.post("/tasks", json=body)
        seconds = time.monotonic() - started
        task_id = response.json()["id"] if response.status_code == 201 else None
        with self.lock:
            self.answers.append((response.status_code, seconds, task_id, during_outage))
        time.sleep(0.02)  # a steady stream rather than one spike

    def acknowledged(self) -> list[str]:
        with self.lock:
            return [task_id for status, _, task_id, _ in self.answers if task_id and status == 201]


def test_submissions_while_redis_is_down_are_all_run_once_it_is_back(
    stack: FaultStack,
    client: ApiClient,
    redis_server: RedisServer,
    journal: Journal,
    figures: RecordFigures,
) -> None:
    burst = Burst(client, journal)
    readiness: list[tuple[int, dict[str, object], float]] = []

    with ThreadPoolExecutor(max_workers=4) as pool:
        submitted = [pool.submit(burst.submit, n) for n in range(SUBMISSIONS)]
        wait_until(lambda: len(burst.acknowledged()) >= STOP_AFTER, timeout=30, what="the first 30")
        shut_down_saving(redis_server)
        burst.broker_down.set()
        stopped = time.monotonic()
        while time.monotonic() - stopped < OUTAGE_SECONDS:
            started = time.monotonic()
            ready = httpx.get(f"{stack.api_url}/api/v1/health/ready", timeout=10)
            readiness.append((ready.status_code, ready.json(), time.monotonic() - started))
            time.sleep(0.5)
        for future in submitted:  # every submission answered while Redis is still down
            future.result()
        redis_server.start()
        burst.broker_down.clear()
        restarted = time.monotonic()

    acknowledged = burst.acknowledged()
    wait_until(
        lambda: all(journal.completions()[task_id] for task_id in acknowledged),
        timeout=60,
        what="every acknowledged submission to run",
        interval=0.2,
    )
    recovery = time.monotonic() - restarted
    after_restart = client.submit("journaled_sleep", journal=str(journal.path), seconds=0)
    client.wait_for_status(after_restart["id"], "completed", timeout=20)

    tasks = [client.task(task_id) for task_id in acknowledged]
    completions = journal.completions()
    during = [a for a in burst.answers if a[3]]
    figures(
        submitted=SUBMISSIONS,
        acknowledged=len(acknowledged),
        acknowledged_while_down=sum(status == 201 for status, *_ in during),
        completed=sum(t["status"] == "completed" for t in tasks),
        failed=sum(t["status"] == "failed" for t in tasks),
        lost=sum(not completions[task_id] for task_id in acknowledged),
        duplicates=sum(max(n - 1, 0) for n in completions.values()),
        slowest_answer_seconds=max(seconds for _, seconds, *_ in burst.answers),
        recovery_seconds=recovery,
    )
    assert len(during) > 0, "no submission happened while Redis was down"
    assert all(status == 201 for status, *_ in burst.answers), burst.answers
    assert max(seconds for _, seconds, *_ in burst.answers) < FAST_ANSWER_SECONDS
    assert all(t["status"] == "completed" and t["attempts"] == 1 for t in tasks), tasks
    assert all(completions[task_id] == 1 for task_id in acknowledged), completions
    assert readiness, "readiness was never asked while Redis was down"
    for status, body, seconds in readiness:
        assert status == 503, body
        checks = body["checks"]
        assert isinstance(checks, dict)
        assert checks["database"] == "ok", body
        assert "broker" in str(checks["broker"]), body
        assert seconds < FAST_ANSWER_SECONDS


def test_tasks_queued_when_redis_comes_back_empty_are_still_run(
    stack: FaultStack,
    client: ApiClient,
    redis_server: RedisServer,
    journal: Journal,
    figures: RecordFigures,
) -> None:
    busy = [
        client.submit("journaled_sleep", journal=str(journal.path), seconds=2)["id"]
        for _ in range(2)
    ]
    wait_until(
        lambda: len(journal.unfinished_runs()) == len(busy),
        timeout=20,
        what="both pool processes to be busy",
    )
    queued = [
        client.submit("journaled_sleep", journal=str(journal.path), seconds=0)["id"]
        for _ in range(3)
    ]
    waiting = redis.Redis.from_url(redis_server.url)
    try:
        assert waiting.llen("default") == len(queued)
    finally:
        waiting.close()

    redis_server.stop()  # saves nothing: it comes back empty
    redis_server.start()
    restarted = time.monotonic()
    try:
        wait_until(
            lambda: all(journal.completions()[task_id] for task_id in busy + queued),
            timeout=8,  # the relay runs every second
            what="every acknowledged submission to run",
            interval=0.2,
        )
    finally:
        completions = journal.completions()
        figures(
            submitted=len(busy) + len(queued),
            completed=sum(completions[task_id] > 0 for task_id in busy + queued),
            lost=sum(not completions[task_id] for task_id in queued),
            duplicates=sum(max(n - 1, 0) for n in completions.values()),
            recovery_seconds=time.monotonic() - restarted,
        )

"""What Flower shows for a task is what taskhub stored: a real worker's Celery events, read as
Flower reads them (an event receiver feeding celery.events.state.State), against the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.api_client import ApiClient
from tests.e2e.broker import leased_redis_database
from tests.e2e.stack import Stack
from tests.support.celery_events import EventMonitor
from tests.support.databases import migrated_database
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

TIMEOUT = 30.0


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[Stack, EventMonitor]]:
    directory = tmp_path_factory.mktemp("monitoring")
    with (
        migrated_database("sqlite", directory) as database_url,
        leased_redis_database(redis_url) as broker_url,
    ):
        stack = Stack(database_url=database_url, broker_url=broker_url, directory=directory)
        monitor = EventMonitor(broker_url)
        try:
            monitor.start()
            stack.start_api()
            stack.start_worker(concurrency=1, TASKHUB_WORKER_TASK_EVENTS="true")
            stack.start_beat()  # the reaper: a run whose process died is run again
            monitor.wait_for_worker()
            yield stack, monitor
        except Exception as exc:
            raise AssertionError(f"{exc}\n{stack.log_report()}") from exc
        finally:
            stack.stop()
            monitor.stop()


@pytest.fixture
def client(stack: tuple[Stack, EventMonitor]) -> Iterator[ApiClient]:
    with stack[0].client() as api:
        yield api.sign_up()


@pytest.fixture
def monitor(stack: tuple[Stack, EventMonitor]) -> EventMonitor:
    return stack[1]


def test_a_completed_run_is_a_success(client: ApiClient, monitor: EventMonitor) -> None:
    task = client.submit("noop")

    client.wait_for_status(task["id"], "completed", timeout=TIMEOUT)

    monitor.wait_for_state(task["id"], "SUCCESS")


def test_a_failed_run_is_a_failure_with_its_error(client: ApiClient, monitor: EventMonitor) -> None:
    task = client.submit("always_fails")

    stored = client.wait_for_status(task["id"], "failed", timeout=TIMEOUT)

    shown = monitor.wait_for_state(task["id"], "FAILURE")
    assert stored["error"]["message"] == "boom"
    assert "ValueError: boom" in shown["exception"]
    assert "task-succeeded" not in monitor.event_types(task["id"])


def test_a_retried_run_is_a_retry_with_its_error_then_what_the_next_run_did(
    client: ApiClient, monitor: EventMonitor
) -> None:
    task = client.submit("flaky", fail_until=2)

    stored = client.wait_for_status(task["id"], "completed", timeout=TIMEOUT)

    monitor.wait_for_state(task["id"], "SUCCESS")
    events = monitor.events(task["id"])
    retried = [event for event in events if event["type"] == "task-retried"]
    assert stored["attempts"] == 2
    assert len(retried) == 1
    assert "ConnectionError: attempt 1 fails until attempt 2" in retried[0]["exception"]
    assert [e["type"] for e in events].count("task-succeeded") == 1


def test_a_run_that_fails_its_last_attempt_is_a_failure(
    client: ApiClient, monitor: EventMonitor
) -> None:
    task = client.submit("flaky", fail_until=9)  # never, within its 4 attempts

    stored = client.wait_for_status(task["id"], "failed", timeout=TIMEOUT)

    shown = monitor.wait_for_state(task["id"], "FAILURE")
    assert stored["attempts"] == 4
    assert monitor.event_types(task["id"]).count("task-retried") == 3
    assert "ConnectionError: attempt 4 fails" in shown["exception"]


def test_a_run_stopped_by_its_cancellation_is_revoked(
    client: ApiClient, monitor: EventMonitor
) -> None:
    task = client.submit("cooperative_sleep", seconds=60)
    client.wait_for_status(task["id"], "running", timeout=TIMEOUT)
    monitor.wait_for_state(task["id"], "STARTED")

    client.cancel(task["id"])

    monitor.wait_for_state(task["id"], "REVOKED")
    assert client.task(task["id"])["status"] == "cancelled"
    assert "task-succeeded" not in monitor.event_types(task["id"])


def test_a_run_whose_worker_process_died_is_redelivered_and_then_succeeds(
    client: ApiClient, monitor: EventMonitor
) -> None:
    task = client.submit("crash_once")

    stored = client.wait_for_status(task["id"], "completed", timeout=TIMEOUT)

    monitor.wait_for_state(task["id"], "SUCCESS")
    assert stored["attempts"] == 2
    # Late ack: the first delivery was requeued, not reported as a failure.
    assert "task-failed" not in monitor.event_types(task["id"])

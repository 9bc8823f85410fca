"""The e2e stack with the fault task types loaded, on servers the fault tests own."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis

from adapters.celery.dispatcher import EPOCH_KEY
from adapters.celery.topology import create_celery_app, destination, task_name
from tests.e2e.api_client import TERMINAL, ApiClient, Task, wait_until
from tests.e2e.process import ManagedProcess
from tests.e2e.stack import Stack
from tests.support.databases import migrated_database

TASK_MODULES = "tests.e2e.task_types,tests.faults.task_types"


class FaultStack(Stack):
    """Every process loads tests/faults/task_types.py; several workers may run side by side,
    so none serves metrics (each would want the same port)."""

    def env(self, **overrides: str) -> dict[str, str]:
        return super().env(
            TASKHUB_TASK_MODULES=TASK_MODULES, TASKHUB_WORKER_METRICS_PORT="0", **overrides
        )

    def start_all(
        self, *, workers: int = 1, concurrency: int = 2, **worker_settings: str
    ) -> list[ManagedProcess]:
        """API, Beat and `workers` workers (with `worker_settings`, TASKHUB_* variables),
        started together; returns the workers."""
        with ThreadPoolExecutor(max_workers=2 + workers) as pool:
            api = pool.submit(self.start_api)
            beat = pool.submit(self.start_beat)
            started = [
                pool.submit(self.start_worker, concurrency=concurrency, **worker_settings)
                for _ in range(workers)
            ]
            api.result()
            beat.result()
            return [future.result() for future in started]

    def workers(self) -> list[ManagedProcess]:
        return [p for p in self.processes if p.name.startswith("worker") and p.running]


@contextmanager
def fault_stack(
    *,
    database_url: str,
    broker_url: str,
    directory: Path,
    workers: int = 1,
    concurrency: int = 2,
    **worker_settings: str,
) -> Iterator[FaultStack]:
    """A started stack, every process of it stopped on the way out, whatever happened;
    its workers get `worker_settings` (TASKHUB_* variables) on top of the stack's."""
    stack = FaultStack(database_url=database_url, broker_url=broker_url, directory=directory)
    try:
        try:
            stack.start_all(workers=workers, concurrency=concurrency, **worker_settings)
            relay_has_seen_the_broker(broker_url)
        except Exception as exc:
            raise RuntimeError(f"the stack did not start: {exc}\n{stack.log_report()}") from exc
        yield stack
    finally:
        stack.stop()


def relay_has_seen_the_broker(broker_url: str, *, timeout: float = 30.0) -> None:
    """Once Beat's relay has recorded the Redis broker's epoch as recovered: a task
    submitted before that first look counts as maybe lost with a new broker, and is
    published again (a copy the claim refuses), which a test that counts deliveries must not
    see. RabbitMQ keeps no epoch: nothing to wait for."""
    if not broker_url.startswith("redis"):
        return
    client = redis.Redis.from_url(broker_url)
    try:

        def recorded() -> bool:
            current = str(client.info("server")["run_id"]).encode()
            return client.get(EPOCH_KEY) == current

        wait_until(recorded, timeout=timeout, what="the relay's first look at the broker")
    finally:
        client.close()


def pool_children(worker: ManagedProcess) -> set[int]:
    """The worker's pool processes: its process group but the main process."""
    return set(worker.living_group_members()) - {worker.pid}


def kill_pool_child(worker: ManagedProcess, pid: int) -> bool:
    """SIGKILL `pid` if it is still one of `worker`'s pool processes (never anything else)."""
    if pid not in pool_children(worker):
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def settled(client: ApiClient, task_ids: list[str], *, timeout: float) -> dict[str, Task]:
    """Every task once all of them are terminal."""

    def all_terminal() -> dict[str, Task] | None:
        tasks = {task_id: client.task(task_id) for task_id in task_ids}
        return tasks if all(t["status"] in TERMINAL for t in tasks.values()) else None

    return wait_until(all_terminal, timeout=timeout, what="every task to settle", interval=0.2)


def submit_batch(client: ApiClient, task_type: str, count: int, **kwargs: Any) -> list[str]:
    """`count` tasks of one type in one POST /tasks/batch; their ids, in order."""
    body = {
        "tasks": [
            {"name": f"fault {task_type} {n}", "task_type": task_type, "kwargs": kwargs}
            for n in range(count)
        ]
    }
    response = client.http.post("/tasks/batch", json=body)
    assert response.status_code == 201, response.text
    return [task["id"] for task in response.json()["items"]]


def every_task(client: ApiClient) -> list[dict[str, Any]]:
    """All the client's tasks, every page of them."""
    tasks: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200}
        if cursor:
            params["cursor"] = cursor
        response = client.http.get("/tasks", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        tasks.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return tasks


def publish_copies(broker_url: str, task_type: str, task_id: str, *, copies: int) -> None:
    """More messages for a task already submitted, as the API publishes them: what a relay
    republishing, a redelivery or a broker's at-least-once delivery hands the workers."""
    app = create_celery_app(broker_url=broker_url, visibility_timeout=3600)
    try:
        exchange, key = destination("default", task_type, broker_url=broker_url)
        with app.producer_or_acquire() as producer:
            for _ in range(copies):
                app.send_task(
                    task_name(task_type),
                    args=[task_id],
                    task_id=task_id,
                    queue="default",
                    exchange=exchange,
                    routing_key=key,
                    serializer="json",
                    producer=producer,
                )
    finally:
        app.close()


@contextmanager
def sqlite_fault_stack(
    *,
    broker_url: str,
    directory: Path,
    workers: int = 1,
    concurrency: int = 2,
    **worker_settings: str,
) -> Iterator[FaultStack]:
    """`fault_stack` on a fresh migrated SQLite database in `directory`."""
    with (
        migrated_database("sqlite", directory) as database_url,
        fault_stack(
            database_url=database_url,
            broker_url=broker_url,
            directory=directory,
            workers=workers,
            concurrency=concurrency,
            **worker_settings,
        ) as started,
    ):
        yield started


SCHEDULER_READY = r"scheduler loop started"
SCHEDULER_LEASE_HELD = r"holding the taskhub:lease:scheduler lease, generation (\d+)"


def start_scheduler(stack: Stack, **settings: str) -> ManagedProcess:
    """A `taskhub scheduler` process of `stack`, with `settings` (TASKHUB_* variables) on
    top of the stack's; returns once its loop runs (holding the lease or standing by)."""
    process = stack._spawn("scheduler", ["scheduler"], stack.env(**settings))
    process.wait_for_log(SCHEDULER_READY, timeout=60.0)
    return process


@contextmanager
def api_alone(
    backend: str, *, broker_url: str, directory: Path, **settings: str
) -> Iterator[FaultStack]:
    """An API process with no worker, on a fresh migrated database: what it stores stays
    pending, for tests that race requests against each other."""
    with migrated_database(backend, directory) as database_url:
        stack = FaultStack(database_url=database_url, broker_url=broker_url, directory=directory)
        try:
            stack.start_api(**settings)
            yield stack
        finally:
            stack.stop()


@contextmanager
def racing_client(api: FaultStack, *, connections: int, timeout: float) -> Iterator[ApiClient]:
    """A signed-up client with a connection for every request at once: none waits for the
    client's own pool, so the requests race in the server."""
    with api.client().sign_up() as signed_up:
        signed_up.http = httpx.Client(
            base_url=signed_up.http.base_url,
            headers=signed_up.http.headers,
            timeout=timeout,
            trust_env=False,
            limits=httpx.Limits(max_connections=connections),
        )
        yield signed_up

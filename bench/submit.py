"""Submitting over HTTP: one task per request under load, 500 per batch request, and the
time from a submission to its start on an idle worker."""

from __future__ import annotations

import json
import time
from uuid import UUID

import httpx

from bench.drain import REFERENCE_QUEUES, TASKHUB_QUEUES, wait_idle
from bench.environment import Broker
from bench.loadgen import Load, post
from bench.reference.worker import STARTED_KEY
from bench.stack import REFERENCE_DB, TASKHUB_DB
from bench.taskhub_client import BATCH, TaskhubClient

CONNECTIONS = 32
BATCH_CONNECTIONS = 4
JSON = {"Content-Type": "application/json"}
ONE_TASK = json.dumps({"name": "bench", "task_type": "noop"})


def taskhub_submit(client: TaskhubClient, api: str, seconds: float) -> Load:
    _, token = client.new_user("submit")
    headers = {**JSON, "Authorization": f"Bearer {token}"}
    return post(f"{api}/api/v1/tasks", ONE_TASK, headers, connections=CONNECTIONS, seconds=seconds)


def reference_submit(api: str, seconds: float) -> Load:
    return post(f"{api}/tasks", ONE_TASK, JSON, connections=CONNECTIONS, seconds=seconds)


def taskhub_batch_submit(client: TaskhubClient, api: str, seconds: float) -> float:
    """Tasks per second through POST /tasks/batch, 500 tasks a request."""
    _, token = client.new_user("batch")
    headers = {**JSON, "Authorization": f"Bearer {token}"}
    body = json.dumps({"tasks": [{"name": "bench", "task_type": "noop"}] * BATCH})
    url = f"{api}/api/v1/tasks/batch"
    load = post(url, body, headers, connections=BATCH_CONNECTIONS, seconds=seconds)
    if load.errors:
        raise RuntimeError(f"{load.errors} batch requests failed")
    return load.requests_per_second * BATCH


def taskhub_latencies(client: TaskhubClient, broker: Broker, api: str, n: int) -> list[float]:
    """Milliseconds from just before each POST to the task's started_at (the worker's claim),
    one task at a time on an idle worker."""
    _, token = client.new_user("latency")
    headers = {"Authorization": f"Bearer {token}"}
    sent: dict[UUID, float] = {}
    with httpx.Client(base_url=api, headers=headers, trust_env=False) as http:
        for _ in range(n):
            before = time.time()
            response = http.post("/api/v1/tasks", json={"name": "latency", "task_type": "noop"})
            response.raise_for_status()
            task_id = UUID(response.json()["id"])
            sent[task_id] = before
            while client.status(task_id) != "completed":
                time.sleep(0.001)
            wait_idle(broker, TASKHUB_DB, TASKHUB_QUEUES)  # acknowledged: the worker is idle
    started = client.started_at(list(sent))
    return [(started[str(task_id)] - before) * 1000 for task_id, before in sent.items()]


def reference_latencies(broker: Broker, api: str, n: int) -> list[float]:
    """The same through the bare app and raw Celery, whose task records time.time() at start."""
    redis = broker.client(REFERENCE_DB)
    latencies = []
    with httpx.Client(base_url=api, trust_env=False) as http:
        for _ in range(n):
            before = time.time()
            response = http.post("/tasks", json={"name": "latency", "task_type": "stamp"})
            response.raise_for_status()
            key = STARTED_KEY.format(response.json()["id"])
            while (stamp := redis.get(key)) is None:
                time.sleep(0.001)
            wait_idle(broker, REFERENCE_DB, REFERENCE_QUEUES)
            latencies.append((float(stamp) - before) * 1000)
    return latencies

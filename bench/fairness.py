"""Fair sharing between users, end to end through the API, Beat and one worker.

- Fairness: user A submits `backlog` no-op tasks (500 a batch request), then user B one;
  B's start delay is from just before its POST to its run's start (started_at).
- Cost: one user's `n` no-op tasks, from the first batch POST until the last completes,
  with fair sharing on and off (TASKHUB_FAIR_SHARE); the API and Beat restart for each."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import httpx

from bench.drain import purge
from bench.processes import HOST, free_port
from bench.stack import Systems
from bench.taskhub_client import BATCH, TaskhubClient

BEAT_READY = "beat: Starting"
TIMEOUT = 600.0


@contextmanager
def api_and_beat(systems: Systems, *, fair_share: bool) -> Iterator[str]:
    env = {**systems.taskhub_env(), "TASKHUB_FAIR_SHARE": str(fair_share).lower()}
    port = free_port()
    command = [sys.executable, "-m", "entrypoints.cli", "api", "--port", str(port)]
    api = systems.processes.start(f"taskhub-api-fair-{fair_share}", command, env)
    url = f"http://{HOST}:{port}"
    api.wait_for_http(f"{url}/api/v1/health/live")
    beat_command = [sys.executable, "-m", "entrypoints.cli", "beat"]
    beat = systems.processes.start(f"taskhub-beat-fair-{fair_share}", beat_command, env)
    beat.wait_for_log(BEAT_READY)
    try:
        yield url
    finally:
        systems.processes.stop(beat)
        systems.processes.stop(api)


def submit_batches(http: httpx.Client, n: int) -> list[UUID]:
    ids: list[UUID] = []
    for start in range(0, n, BATCH):
        count = min(BATCH, n - start)
        body = json.dumps({"tasks": [{"name": "bench", "task_type": "noop"}] * count})
        response = http.post(
            "/api/v1/tasks/batch", content=body, headers={"Content-Type": "application/json"}
        )
        response.raise_for_status()
        ids += [UUID(task["id"]) for task in response.json()["items"]]
    return ids


def one_user_throughput(client: TaskhubClient, systems: Systems, n: int, *, fair: bool) -> float:
    """Tasks per second, from the first submission until all `n` completed."""
    purge(systems.broker)
    user, token = client.new_user("fair-one")
    with (
        api_and_beat(systems, fair_share=fair) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http,
    ):
        began = time.monotonic()
        submit_batches(http, n)
        while client.count(user, "completed") < n:
            if time.monotonic() - began > TIMEOUT:
                raise RuntimeError(f"{n} tasks did not complete in {TIMEOUT} s")
            time.sleep(0.05)
        return n / (time.monotonic() - began)


def second_user_start_delay(client: TaskhubClient, systems: Systems, backlog: int) -> float:
    """Seconds from B's POST to its start, behind A's backlog, fair sharing on; returns
    once A's backlog drained too."""
    purge(systems.broker)
    a_user, a_token = client.new_user("fair-a")
    _, b_token = client.new_user("fair-b")
    with (
        api_and_beat(systems, fair_share=True) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {a_token}"}) as a,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {b_token}"}) as b,
    ):
        submit_batches(a, backlog)
        before = time.time()
        response = b.post("/api/v1/tasks", json={"name": "bench b", "task_type": "noop"})
        response.raise_for_status()
        task_id = UUID(response.json()["id"])
        began = time.monotonic()
        while not (started := client.started_at([task_id])):
            if time.monotonic() - began > TIMEOUT:
                raise RuntimeError("B's task did not start")
            time.sleep(0.02)
        delay = started[str(task_id)] - before
        # A's backlog drains before the next run, or its held tasks would share that one.
        while client.count(a_user, "completed") < backlog:
            if time.monotonic() - began > TIMEOUT:
                raise RuntimeError("A's backlog did not drain")
            time.sleep(0.2)
        return delay

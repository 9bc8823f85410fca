"""Concurrency keys on a real API, worker (two processes) and Beat: tasks of one key run one
after the other, each released as the previous run ends; another key runs beside them."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from tests.e2e.api_client import ApiClient, Task

RUN_TIMEOUT = 30.0


def countdown(client: ApiClient, key: str, seconds: float = 1.5) -> Task:
    body: dict[str, Any] = {
        "name": f"e2e {key}",
        "task_type": "countdown",
        "kwargs": {"seconds": seconds, "steps": 3},
        "concurrency_key": key,
    }
    response = client.http.post("/tasks", json=body)
    assert response.status_code == 201, response.text
    task: Task = response.json()
    return task


def span(task: Task) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(task["started_at"]), datetime.fromisoformat(task["completed_at"])


def test_tasks_of_one_key_run_one_after_the_other_and_say_why_they_wait(
    client: ApiClient,
) -> None:
    keyed = [countdown(client, "deploy-eu") for _ in range(3)]
    other = countdown(client, "deploy-us")

    waiting = client.task(keyed[2]["id"])["waiting"]
    assert waiting["reason"] == "concurrency"
    assert (waiting["concurrency_key"], waiting["limit"]) == ("countdown:deploy-eu", 1)
    done = [client.wait_for_status(t["id"], "completed", timeout=RUN_TIMEOUT) for t in keyed]
    beside = client.wait_for_status(other["id"], "completed", timeout=RUN_TIMEOUT)

    spans = [span(task) for task in done]
    for (_, first_ended), (next_started, _) in itertools.pairwise(spans):
        assert next_started >= first_ended
    other_started, _ = span(beside)
    assert other_started < spans[0][1]  # the other key did not wait for this one

"""After a known set of tasks, the worker's and the API's /metrics report exactly what happened,
added up over every process that served them (prometheus-client multiprocess mode)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.api_client import wait_until
from tests.integration.metrics.conftest import Deployment

API = "/api/v1"
TERMINAL = {"completed", "failed", "cancelled"}
TIMEOUT = 60.0
Labels = frozenset[tuple[str, str]]
Samples = dict[tuple[str, Labels], float]


class CountingApi:
    """The API as a client uses it, remembering the route template, method and status of
    every answer: exactly what the API's request counter must show."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10, trust_env=False)
        self.answered: Counter[tuple[str, str, str]] = Counter()

    def call(self, method: str, route: str, path: str | None = None, **kw: Any) -> httpx.Response:
        response = self.http.request(method, path or route, **kw)
        self.answered[(route, method, str(response.status_code))] += 1
        return response

    def sign_up(self) -> None:
        account = {"email": "metrics@example.com", "password": "correct horse battery"}
        assert self.call("POST", f"{API}/auth/register", json=account).status_code == 202
        login = {"username": account["email"], "password": account["password"]}
        token = self.call("POST", f"{API}/auth/token", data=login)
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def submit(self, task_type: str, **kwargs: Any) -> str:
        body = {"name": task_type, "task_type": task_type, "kwargs": kwargs}
        response = self.call("POST", f"{API}/tasks", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def status(self, task_id: str) -> str:
        response = self.call("GET", f"{API}/tasks/{{task_id}}", f"{API}/tasks/{task_id}")
        return str(response.json()["status"])

    def cancel(self, task_id: str) -> None:
        path = f"{API}/tasks/{task_id}/cancel"
        assert self.call("POST", f"{API}/tasks/{{task_id}}/cancel", path).status_code == 200


def scrape(url: str) -> Samples:
    text = httpx.get(url, timeout=5, trust_env=False).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def labelled(samples: Samples, name: str, *label_names: str) -> dict[tuple[str, ...], float]:
    """The samples called `name`, by the values of `label_names`."""
    return {
        tuple(dict(labels)[n] for n in label_names): value
        for (sample, labels), value in samples.items()
        if sample == name
    }


def run_counts(samples: Samples) -> dict[tuple[str, str, str], float]:
    """Every run counter's samples, by (outcome, task_type, queue)."""
    counts = {}
    for outcome in ("started", "succeeded", "failed", "retried", "cancelled"):
        by_labels = labelled(samples, f"taskhub_tasks_{outcome}_total", "task_type", "queue")
        counts.update({(outcome, *key): value for key, value in by_labels.items()})
    return counts


def until_equal(read: Any, expected: Any, what: str) -> None:
    """Counts are written just after the state the test waits on: give them a moment."""
    seen: list[Any] = []

    def equal() -> bool:
        seen.append(read())
        return bool(seen[-1] == expected)

    try:
        wait_until(equal, timeout=10, what=what, interval=0.2)
    except AssertionError:
        assert seen[-1] == expected  # shows the difference


def statuses_in_database(database_url: str) -> dict[str, int]:
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        rows = connection.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status")
        return dict(rows.fetchall())


def test_worker_and_api_metrics_count_exactly_what_happened(deployment: Deployment) -> None:
    api = CountingApi(deployment.api_url)
    api.sign_up()
    finishing = [api.submit("countdown", seconds=0.2, steps=2) for _ in range(3)]
    finishing += [api.submit("metrics_always_fails"), api.submit("metrics_fails_once")]
    waiting = api.submit("bulk_checksum", paths=["never-read"])  # low_priority: not consumed
    wait_until(
        lambda: all(api.status(t) in TERMINAL for t in finishing),
        timeout=TIMEOUT,
        what="the tasks to finish",
        interval=0.1,
    )
    cancelled = api.submit("countdown", seconds=60, steps=600)
    wait_until(lambda: api.status(cancelled) == "running", timeout=TIMEOUT, what="the run")
    api.cancel(cancelled)
    api.call("GET", "unmatched", f"/not-a-route/{cancelled}")

    until_equal(
        lambda: run_counts(scrape(deployment.worker_metrics_url)),
        {
            # 4, not 104: the count a previous run left behind was wiped at start.
            ("started", "countdown", "default"): 4,
            ("succeeded", "countdown", "default"): 3,
            ("cancelled", "countdown", "default"): 1,
            ("started", "metrics_always_fails", "default"): 1,
            ("failed", "metrics_always_fails", "default"): 1,
            ("started", "metrics_fails_once", "high_priority"): 2,
            ("retried", "metrics_fails_once", "high_priority"): 1,
            ("succeeded", "metrics_fails_once", "high_priority"): 1,
        },
        "the worker's run counters",
    )
    worker = scrape(deployment.worker_metrics_url)
    assert labelled(worker, "taskhub_task_run_seconds_count", "task_type") == {
        ("countdown",): 4,
        ("metrics_always_fails",): 1,
        ("metrics_fails_once",): 2,
    }
    assert labelled(worker, "taskhub_queue_depth", "queue") == {
        ("high_priority",): 0,
        ("default",): 0,
        ("low_priority",): 1,
    }
    by_status = labelled(worker, "taskhub_tasks_by_status", "status")
    expected_statuses = {
        "waiting": 0,
        "pending": 1,
        "running": 0,
        "completed": 4,
        "failed": 1,
        "cancelled": 1,
    }
    assert by_status == {(status,): n for status, n in expected_statuses.items()}
    in_database = statuses_in_database(deployment.database_url)
    assert {s: n for (s,), n in by_status.items() if n} == in_database

    # Health checks of the fixture aside, every answer the client got, counted once.
    until_equal(
        lambda: {
            key: n
            for key, n in labelled(
                scrape(f"{deployment.api_url}/metrics"),
                "taskhub_http_requests_total",
                "route",
                "method",
                "status",
            ).items()
            if key[0] != f"{API}/health/live"
        },
        dict(api.answered),
        "the API's request counters",
    )
    api_text = httpx.get(f"{deployment.api_url}/metrics", trust_env=False).text
    assert not [task_id for task_id in [*finishing, waiting, cancelled] if task_id in api_text]
    submissions = frozenset({"route": f"{API}/tasks", "method": "POST"}.items())
    api_samples = scrape(f"{deployment.api_url}/metrics")
    assert api_samples[("taskhub_http_request_duration_seconds_count", submissions)] == 7

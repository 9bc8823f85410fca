"""The REST API as a client uses it (register, log in, submit, poll, cancel), and polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar
from uuid import uuid4

import httpx

API = "/api/v1"
POLL_SECONDS = 0.05
TERMINAL = frozenset({"completed", "failed", "cancelled"})
T = TypeVar("T")

Task = dict[str, Any]


class WaitTimeoutError(AssertionError):
    """What was waited for did not happen in time."""


def wait_until(
    probe: Callable[[], T], *, timeout: float, what: str, interval: float = POLL_SECONDS
) -> T:
    """Call `probe` until it returns something truthy, which is returned; fail at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class ApiClient:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url + API, timeout=10, trust_env=False)
        self.user_id = ""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def sign_up(self) -> ApiClient:
        """Register a fresh account and log in with it; later calls carry its bearer token."""
        email, password = f"e2e-{uuid4().hex[:10]}@example.com", "correct horse battery"
        registered = self.http.post("/auth/register", json={"email": email, "password": password})
        assert registered.status_code == 202, registered.text
        login = self.http.post("/auth/token", data={"username": email, "password": password})
        assert login.status_code == 200, login.text
        self.http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        me = self.http.get("/users/me")  # a sign-up's answer names no user
        assert me.status_code == 200, me.text
        self.user_id = me.json()["id"]
        return self

    def authorised_as(self, other: ApiClient) -> ApiClient:
        """Use `other`'s token, e.g. on a second API process of the same deployment."""
        self.http.headers["Authorization"] = other.http.headers["Authorization"]
        self.user_id = other.user_id
        return self

    def submit(self, task_type: str, priority: str | None = None, **kwargs: Any) -> Task:
        body: dict[str, Any] = {"name": f"e2e {task_type}", "task_type": task_type}
        body["kwargs"] = kwargs
        if priority is not None:
            body["priority"] = priority
        response = self.http.post("/tasks", json=body)
        assert response.status_code == 201, response.text
        task: Task = response.json()
        return task

    def task(self, task_id: str) -> Task:
        response = self.http.get(f"/tasks/{task_id}")
        assert response.status_code == 200, response.text
        found: Task = response.json()
        return found

    def cancel(self, task_id: str) -> Task:
        response = self.http.post(f"/tasks/{task_id}/cancel")
        assert response.status_code == 200, response.text
        cancelled: Task = response.json()
        return cancelled

    def wait_for(
        self, task_id: str, condition: Callable[[Task], bool], *, timeout: float, what: str
    ) -> Task:
        """Poll the task until `condition` holds; the failure names the last state seen."""
        seen: list[Task] = []

        def probe() -> Task | None:
            seen.append(self.task(task_id))
            return seen[-1] if condition(seen[-1]) else None

        try:
            return wait_until(probe, timeout=timeout, what=f"task {task_id} {what}")
        except WaitTimeoutError as exc:
            raise WaitTimeoutError(f"{exc}; last seen: {seen[-1] if seen else None}") from None

    def wait_for_status(self, task_id: str, status: str, *, timeout: float) -> Task:
        """Poll until the task has `status`; fails at once if it ends in another state."""

        def reached(task: Task) -> bool:
            if task["status"] != status and task["status"] in TERMINAL:
                raise AssertionError(f"task ended {task['status']}, not {status}: {task}")
            return bool(task["status"] == status)

        return self.wait_for(task_id, reached, timeout=timeout, what=f"to be {status}")

    def assert_stays(
        self, task_id: str, condition: Callable[[Task], bool], *, seconds: float
    ) -> Task:
        """Poll for `seconds` (the only way to see that something does not happen)."""
        deadline = time.monotonic() + seconds
        while True:
            task = self.task(task_id)
            assert condition(task), task
            if time.monotonic() > deadline:
                return task
            time.sleep(POLL_SECONDS * 2)

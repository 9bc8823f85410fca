"""Celery's task events read the way Flower reads them: an event receiver on the broker
feeding `celery.events.state.State`, so a test sees the state Flower would show."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from celery import states
from celery.events.state import State

from adapters.celery import topology
from tests.e2e.api_client import wait_until


class EventMonitor:
    """Listens from `start()` until `stop()`; events sent before `start()` are not seen
    (Redis delivers them by publish/subscribe), so `wait_for_worker()` before submitting."""

    def __init__(self, broker_url: str) -> None:
        self.app = topology.create_celery_app(broker_url=broker_url, visibility_timeout=3600)
        self.state = State()
        self._events: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()
        self._receiver: Any = None
        self._thread: threading.Thread | None = None
        self._listening = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._capture, daemon=True, name="event-monitor")
        self._thread.start()

    def stop(self) -> None:
        if self._receiver is not None:
            self._receiver.should_stop = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def wait_for_worker(self, *, timeout: float = 60.0) -> None:
        """Until a worker's heartbeat arrived: the receiver is subscribed and a worker is up."""

        def alive() -> bool:
            with self._lock:
                return any(worker.alive for worker in self.state.workers.values())

        wait_until(alive, timeout=timeout, what="a worker heartbeat", interval=0.1)

    def task_state(self, task_id: str) -> str | None:
        with self._lock:
            task = self.state.tasks.get(task_id)
            return None if task is None else str(task.state)

    def wait_for_state(self, task_id: str, state: str, *, timeout: float = 30.0) -> dict[str, Any]:
        """The task as Flower shows it once it reached `state`; fails at once if it reached
        another final state (SUCCESS, FAILURE, REVOKED) instead."""

        def reached() -> bool:
            now = self.task_state(task_id)
            if now != state and now in states.READY_STATES:
                raise AssertionError(
                    f"task {task_id} is {now} in the events, not {state}: "
                    f"{self.event_types(task_id)}"
                )
            return now == state

        wait_until(
            reached,
            timeout=timeout,
            what=f"task {task_id} to be {state} in the events (is {self.task_state(task_id)}; "
            f"events: {self.event_types(task_id)})",
            interval=0.1,
        )
        with self._lock:
            return dict(self.state.tasks[task_id].as_dict())

    def event_types(self, task_id: str) -> list[str]:
        with self._lock:
            return [event["type"] for event in self._events[task_id]]

    def events(self, task_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._events[task_id])

    def _on_event(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.state.event(event)
            if "uuid" in event:
                self._events[event["uuid"]].append(event)

    def _capture(self) -> None:
        with self.app.connection_for_read() as connection:
            self._receiver = self.app.events.Receiver(connection, handlers={"*": self._on_event})
            # wakeup: ask every worker for a heartbeat now rather than within two seconds.
            self._receiver.capture(limit=None, timeout=None, wakeup=True)

"""The workers online, asked over the broker (Celery's remote control): each answers with
the queues it consumes."""

from __future__ import annotations

from collections import Counter

from celery import Celery

from adapters.celery.errors import broker_errors, broker_unavailable_on
from application.ports import WorkerRoster

# How long the question waits for answers: every worker that is up answers within
# milliseconds; the wait is the price of a page that asks.
ANSWER_SECONDS = 0.5


class CeleryWorkerRoster(WorkerRoster):
    def __init__(self, app: Celery, *, timeout: float = ANSWER_SECONDS) -> None:
        self._app = app
        self._timeout = timeout
        self._errors = broker_errors(app)

    def consumers(self) -> dict[str, int]:
        with broker_unavailable_on(self._errors, "workers online"):
            answers = self._app.control.inspect(timeout=self._timeout).active_queues() or {}
        return dict(Counter(queue["name"] for queues in answers.values() for queue in queues or []))

"""A worker consuming all three queues takes every high before any default before any low."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from celery import Celery, Task
from celery.contrib.testing.worker import start_worker
from kombu import Connection, Consumer, Message

from adapters.celery.dispatcher import CeleryTaskDispatcher
from adapters.celery.topology import task_name, task_queues
from domain.task import Priority
from tests.factories import make_task

PER_QUEUE = 5
STRICT_ORDER = (
    ["high_priority"] * PER_QUEUE + ["default"] * PER_QUEUE + ["low_priority"] * PER_QUEUE
)


def fill_queues_lowest_first(dispatcher: CeleryTaskDispatcher, task_type: str = "sleep") -> None:
    for priority in (Priority.LOW, Priority.NORMAL, Priority.HIGH):
        dispatcher.enqueue(
            [make_task(priority=priority, task_type=task_type) for _ in range(PER_QUEUE)]
        )


def consume_all(app: Celery, *, queue_order_strategy: str | None = None) -> list[str]:
    """Drain the queues one message at a time, as a prefetch-1 worker would, with the app's
    transport options."""
    options = dict(app.conf.broker_transport_options)
    if queue_order_strategy is not None:
        options["queue_order_strategy"] = queue_order_strategy
    taken: list[str] = []

    def on_message(body: Any, message: Message) -> None:
        taken.append(message.delivery_info["routing_key"])
        message.ack()

    with (
        Connection(app.conf.broker_url, transport_options=options) as connection,
        Consumer(
            connection, task_queues(), callbacks=[on_message], accept=["json"], prefetch_count=1
        ),
    ):
        deadline = time.monotonic() + 10
        while len(taken) < len(STRICT_ORDER) and time.monotonic() < deadline:
            connection.drain_events(timeout=2)
    return taken


def test_a_consumer_with_the_topology_takes_queues_in_strict_priority_order(
    celery_app: Celery, dispatcher: CeleryTaskDispatcher
) -> None:
    fill_queues_lowest_first(dispatcher)

    assert consume_all(celery_app) == STRICT_ORDER


def test_without_the_priority_strategy_kombu_would_interleave_the_queues(
    celery_app: Celery, dispatcher: CeleryTaskDispatcher
) -> None:
    # Shows the setting is what gives the order: kombu's default is fair round robin.
    fill_queues_lowest_first(dispatcher)

    taken = consume_all(celery_app, queue_order_strategy="round_robin")

    assert taken[:3] == ["high_priority", "default", "low_priority"]


@pytest.fixture
def worker_app(celery_app: Celery) -> Celery:
    celery_app.conf.worker_hijack_root_logger = False  # leave pytest's log capture alone
    return celery_app


def test_a_celery_worker_runs_all_high_then_default_then_low(worker_app: Celery) -> None:
    ran: list[str] = []
    all_ran = threading.Event()

    @worker_app.task(name=task_name("record_queue"), bind=True)
    def record_queue(self: Task, task_id: str) -> None:
        ran.append(self.request.delivery_info["routing_key"])
        if len(ran) == len(STRICT_ORDER):
            all_ran.set()

    fill_queues_lowest_first(CeleryTaskDispatcher(worker_app), task_type="record_queue")

    with start_worker(
        worker_app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING"
    ):
        all_ran.wait(timeout=20)

    assert ran == STRICT_ORDER

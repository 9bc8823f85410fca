"""End-to-end throughput: N tasks queued in advance, then drained by one worker.

The messages are published to a staging Redis database first and moved onto the worker's
database in one MOVE, which wakes its blocked BRPOP at once; the clock runs from the MOVE
until the queue and kombu's unacked set are both empty, i.e. the last task was acknowledged
(taskhub acknowledges after recording the outcome). Both systems are timed the same way.
"""

from __future__ import annotations

import time
from uuid import uuid4

from celery import Celery

from bench.environment import Broker
from bench.stack import REFERENCE_DB, REFERENCE_STAGING_DB, TASKHUB_DB, TASKHUB_STAGING_DB
from bench.taskhub_client import TaskhubClient

TASKHUB_QUEUES = ("high_priority", "default", "low_priority")
REFERENCE_QUEUES = ("celery",)
UNACKED = ("unacked", "unacked_index")
POLL = 0.005


def idle(broker: Broker, db: int, queues: tuple[str, ...]) -> bool:
    client = broker.client(db)
    return not any(client.llen(q) for q in queues) and not client.hlen("unacked")


def _idle_twice(broker: Broker, db: int, queues: tuple[str, ...]) -> bool:
    if not idle(broker, db, queues):
        return False
    time.sleep(0.002)
    return idle(broker, db, queues)


def wait_idle(broker: Broker, db: int, queues: tuple[str, ...], timeout: float = 600) -> None:
    """Until nothing is queued or held unacknowledged, seen twice in a row."""
    deadline = time.monotonic() + timeout
    while not _idle_twice(broker, db, queues):
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis db {db} still busy after {timeout}s")
        time.sleep(POLL)


def purge(broker: Broker) -> None:
    """Drop whatever is queued; kombu's exchange bindings stay, or publishes would vanish."""
    for db, queues in ((TASKHUB_DB, TASKHUB_QUEUES), (REFERENCE_DB, REFERENCE_QUEUES)):
        broker.client(db).delete(*queues, *UNACKED)


def release_and_time(broker: Broker, staging: int, live: int, queues: tuple[str, ...]) -> float:
    staged = broker.client(staging)
    wait_idle(broker, live, queues)
    started = time.perf_counter()
    for queue in queues:
        if staged.exists(queue) and not staged.move(queue, live):
            raise RuntimeError(f"could not move {queue} onto db {live}")
    wait_idle(broker, live, queues)
    return time.perf_counter() - started


def taskhub_throughput(client: TaskhubClient, broker: Broker, n: int) -> float:
    """Tasks per second; every task's claim and outcome are written to the database."""
    user, _ = client.new_user("drain")
    client.stage_noops(user, n)
    elapsed = release_and_time(broker, TASKHUB_STAGING_DB, TASKHUB_DB, TASKHUB_QUEUES)
    completed = client.count(user, "completed")
    if completed != n:
        raise RuntimeError(f"taskhub completed {completed} of {n} tasks")
    return n / elapsed


def reference_throughput(broker: Broker, n: int) -> float:
    """Tasks per second of raw Celery draining `n` no-op messages."""
    app = Celery("bench_staging", broker=broker.url(REFERENCE_STAGING_DB))
    app.conf.update(task_serializer="json", broker_connection_retry_on_startup=True)
    with app.producer_or_acquire() as producer, producer.batch(max_size=1000):
        for _ in range(n):
            task_id = str(uuid4())
            app.send_task("bench.noop", args=[task_id], task_id=task_id, producer=producer)
    queued = broker.client(REFERENCE_STAGING_DB).llen("celery")
    if queued != n:
        raise RuntimeError(f"staged {queued} of {n} reference messages")
    return n / release_and_time(broker, REFERENCE_STAGING_DB, REFERENCE_DB, REFERENCE_QUEUES)

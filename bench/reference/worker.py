"""Raw Celery: a no-op task and a task that records when it started, nothing else.

Run as `celery -A bench.reference.worker worker` with the pool, concurrency and prefetch of
taskhub's worker; the broker is BENCH_REFERENCE_BROKER_URL. Deliveries as taskhub's: JSON,
acknowledged late, requeued when the worker process dies, no result backend.
"""

from __future__ import annotations

import os
import time
from functools import cache

import redis
from celery import Celery

STARTED_KEY = "bench:started:{}"

app = Celery("bench_reference", broker=os.environ.get("BENCH_REFERENCE_BROKER_URL", "memory://"))
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=True,
)


@cache
def _redis() -> redis.Redis:
    # Made in the pool process that first needs it, never before the fork.
    return redis.Redis.from_url(app.conf.broker_url)


@app.task(name="bench.noop")
def noop(task_id: str) -> None:
    """Does nothing: what Celery itself costs per task."""


@app.task(name="bench.stamp")
def stamp(task_id: str) -> None:
    """Records when it started, as taskhub records `started_at` when a worker claims a task."""
    _redis().set(STARTED_KEY.format(task_id), repr(time.time()), ex=3600)

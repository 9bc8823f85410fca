"""A dead, vanished or hung broker fails calls within seconds; publishing then resumes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import redis
from celery import Celery

from adapters.celery.dispatcher import CeleryBrokerProbe, CeleryTaskDispatcher
from application.errors import DependencyUnavailableError
from tests.factories import make_task
from tests.integration.broker.deadline import run_within
from tests.support.redis_server import RedisServer

# What a request may wait on a dead broker; the settings aim at ~2 s for a hung one.
DEADLINE = 5.0

Operation = Callable[[Celery], None]
MakeApp = Callable[[str], Celery]


def enqueue(app: Celery) -> None:
    CeleryTaskDispatcher(app).enqueue([make_task()])


def enqueue_batch(app: Celery) -> None:
    CeleryTaskDispatcher(app).enqueue([make_task() for _ in range(3)])


def revoke(app: Celery) -> None:
    CeleryTaskDispatcher(app).revoke(make_task().id)


def probe(app: Celery) -> None:
    CeleryBrokerProbe(app).check()


OPERATIONS = [pytest.param(op, id=op.__name__) for op in (enqueue, enqueue_batch, revoke, probe)]


def assert_unavailable_quickly(operation: Operation, app: Celery) -> float:
    elapsed, error = run_within(DEADLINE * 2, lambda: operation(app))

    assert isinstance(error, DependencyUnavailableError), error
    assert error.dependency == "broker"
    assert elapsed < DEADLINE
    return elapsed


@pytest.mark.parametrize("operation", OPERATIONS)
def test_nothing_listening_fails_at_once(operation: Operation, closed_port_app: Celery) -> None:
    elapsed = assert_unavailable_quickly(operation, closed_port_app)

    assert elapsed < 1.0


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_broker_that_went_away_fails_at_once_even_on_a_used_connection(
    operation: Operation, own_redis: RedisServer, make_app: MakeApp
) -> None:
    app = make_app(own_redis.url)
    enqueue(app)
    revoke(app)  # both pools now hold live connections
    own_redis.stop()

    elapsed = assert_unavailable_quickly(operation, app)

    assert elapsed < 1.0


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_hung_broker_fails_after_the_timeout(
    operation: Operation, own_redis: RedisServer, make_app: MakeApp
) -> None:
    app = make_app(own_redis.url)
    enqueue(app)
    own_redis.freeze()

    try:
        assert_unavailable_quickly(operation, app)
    finally:
        own_redis.thaw()


def test_publishing_resumes_once_the_broker_is_back(
    own_redis: RedisServer, make_app: MakeApp
) -> None:
    app = make_app(own_redis.url)
    dispatcher = CeleryTaskDispatcher(app)
    dispatcher.enqueue([make_task()])
    own_redis.stop()
    with pytest.raises(DependencyUnavailableError):
        dispatcher.enqueue([make_task()])
    own_redis.start()  # same port, empty: nothing persisted
    task = make_task()

    dispatcher.enqueue([task])

    client = redis.Redis.from_url(own_redis.url)
    [raw] = client.lrange("default", 0, -1)
    client.close()
    assert json.loads(raw)["headers"]["id"] == str(task.id)
    CeleryBrokerProbe(app).check()

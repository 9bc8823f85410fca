"""The broker's epoch on a real Redis: a new one with every redis-server, whether it kept its
data or not, until the relay marks it recovered."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from celery import Celery

from adapters.celery.dispatcher import EPOCH_KEY, CeleryTaskDispatcher
from application.errors import DependencyUnavailableError
from tests.integration.broker.deadline import run_within
from tests.support.redis_server import RedisServer

MakeApp = Callable[[str], Celery]


def run_id(url: str) -> str:
    client = redis.Redis.from_url(url)
    try:
        return str(client.info("server")["run_id"])
    finally:
        client.close()


def test_a_broker_never_asked_is_in_a_new_epoch_until_it_is_marked_recovered(
    dispatcher: CeleryTaskDispatcher, redis_client: redis.Redis, redis_url: str
) -> None:
    first = dispatcher.new_epoch()
    again = dispatcher.new_epoch()  # asking changes nothing
    assert first is not None
    dispatcher.mark_epoch_recovered(first)

    assert first == again == run_id(redis_url)
    assert redis_client.get(EPOCH_KEY) == first.encode()
    assert dispatcher.new_epoch() is None


def test_redis_restarted_empty_begins_a_new_epoch(
    own_redis: RedisServer, make_app: MakeApp
) -> None:
    dispatcher = CeleryTaskDispatcher(make_app(own_redis.url))
    before = dispatcher.new_epoch()
    assert before is not None
    dispatcher.mark_epoch_recovered(before)

    own_redis.stop()  # nothing saved: the marker goes with the queues
    own_redis.start()
    after = dispatcher.new_epoch()

    assert after is not None
    assert after != before


def test_redis_restarted_with_its_data_begins_a_new_epoch_too(
    own_redis: RedisServer, make_app: MakeApp
) -> None:
    """It may have lost the writes of its last second (appendfsync everysec): it counts."""
    dispatcher = CeleryTaskDispatcher(make_app(own_redis.url))
    before = dispatcher.new_epoch()
    assert before is not None
    dispatcher.mark_epoch_recovered(before)
    client = redis.Redis.from_url(own_redis.url)
    client.save()
    client.close()

    own_redis.stop()
    own_redis.start()  # loads the snapshot: the marker is still there
    client = redis.Redis.from_url(own_redis.url)
    kept = client.get(EPOCH_KEY)
    client.close()

    assert kept == before.encode()
    assert dispatcher.new_epoch() not in (None, before)


def test_an_epoch_that_began_before_it_was_marked_recovered_is_still_reported(
    own_redis: RedisServer, make_app: MakeApp
) -> None:
    dispatcher = CeleryTaskDispatcher(make_app(own_redis.url))
    seen = dispatcher.new_epoch()
    assert seen is not None
    own_redis.stop()  # lost again while the relay was marking the tasks
    own_redis.start()

    dispatcher.mark_epoch_recovered(seen)

    assert dispatcher.new_epoch() not in (None, seen)


def test_a_broker_that_cannot_be_reached_fails_within_the_timeout(
    own_redis: RedisServer, make_app: MakeApp, closed_port_app: Celery
) -> None:
    frozen = CeleryTaskDispatcher(make_app(own_redis.url))
    own_redis.freeze()
    try:
        calls = [
            CeleryTaskDispatcher(closed_port_app).new_epoch,
            lambda: CeleryTaskDispatcher(closed_port_app).mark_epoch_recovered("x"),
            frozen.new_epoch,
        ]
        outcomes = [run_within(10, call) for call in calls]
    finally:
        own_redis.thaw()

    for elapsed, error in outcomes:
        assert isinstance(error, DependencyUnavailableError), error
        assert error.dependency == "broker"
        assert elapsed < 5


@pytest.mark.parametrize("url", ["amqp://guest:guest@127.0.0.1:1//", "memory://"])
def test_other_brokers_keep_what_they_confirmed_and_are_not_asked(
    url: str, make_app: MakeApp
) -> None:
    dispatcher = CeleryTaskDispatcher(make_app(url))

    dispatcher.mark_epoch_recovered("x")

    assert dispatcher.new_epoch() is None

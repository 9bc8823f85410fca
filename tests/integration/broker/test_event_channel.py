"""Task events fanned out through Redis, pipelined: every event a process hands over arrives
in order, a forked process sends on a connection of its own, and a Redis that is gone never
fails the caller nor costs it more than one connect timeout per retry period."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest
import redis

from adapters.redis import event_channel
from adapters.redis.event_channel import (
    CHANNEL_PREFIX,
    RedisEventChannel,
    event_from_json,
)
from domain.event import EventKind, TaskEvent
from domain.task import TaskId
from domain.user import UserId
from tests.support.redis_server import free_port

AT = datetime(2026, 12, 7, tzinfo=UTC)


def events(user: UserId, first: int, count: int) -> list[TaskEvent]:
    task = TaskId(uuid4())
    return [
        TaskEvent(user, n, task, EventKind.PROGRESS, {"progress": n % 101}, AT)
        for n in range(first, first + count)
    ]


def received(pubsub: redis.client.PubSub, count: int, timeout: float = 10.0) -> list[TaskEvent]:
    found: list[TaskEvent] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.2)
        if message and message["type"] == "pmessage":
            found.append(event_from_json(message["data"]))
    return found


def test_every_event_handed_over_arrives_in_order(redis_client: redis.Redis) -> None:
    user = UserId(uuid4())
    pubsub = redis_client.pubsub()
    pubsub.psubscribe(f"{CHANNEL_PREFIX}{user}")
    channel = RedisEventChannel(redis_client)
    sent = events(user, 1, 1000)

    for n in range(0, 1000, 7):  # as commits hand them over: a few at a time
        channel.publish(sent[n : n + 7])

    assert [e.sequence for e in received(pubsub, 1000)] == list(range(1, 1001))


def test_a_forked_process_sends_its_events_on_a_connection_of_its_own(
    redis_client: redis.Redis,
) -> None:
    user = UserId(uuid4())
    pubsub = redis_client.pubsub()
    pubsub.psubscribe(f"{CHANNEL_PREFIX}{user}")
    channel = RedisEventChannel(redis_client)
    channel.publish(events(user, 1, 1))  # the parent's sender runs now
    assert [e.sequence for e in received(pubsub, 1)] == [1]

    child = os.fork()
    if child == 0:  # as a prefork worker's pool process: the parent's socket came along
        channel.publish(events(user, 2, 3))
        os._exit(0)
    os.waitpid(child, 0)
    channel.publish(events(user, 5, 1))  # the parent's connection was left alone

    assert [e.sequence for e in received(pubsub, 4)] == [2, 3, 4, 5]


def test_publishing_never_blocks_or_raises_when_redis_is_gone() -> None:
    nowhere = redis.Redis(port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    channel = RedisEventChannel(nowhere)
    user = UserId(uuid4())

    started = time.monotonic()
    for n in range(1, 5001, 50):
        channel.publish(events(user, n, 50))
    took = time.monotonic() - started

    # 5,000 events against a dead server: dropped at once, and no exception reached the
    # caller (each publish follows a commit); one connect was tried, not one per publish.
    assert took < 2.0, took


def test_events_flow_again_once_redis_is_back_after_the_retry_period(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = UserId(uuid4())
    pubsub = redis_client.pubsub()
    pubsub.psubscribe(f"{CHANNEL_PREFIX}{user}")
    address = redis_client.connection_pool.connection_kwargs
    port = free_port()
    channel = RedisEventChannel(redis.Redis(port=port, socket_connect_timeout=0.2))
    now = [1000.0]
    monkeypatch.setattr(event_channel.time, "monotonic", lambda: now[0])

    channel.publish(events(user, 1, 1))  # nothing listens there: dropped, retried later
    # as if Redis came back at that address
    channel._client = redis.Redis(host=address["host"], port=address["port"])
    channel.publish(events(user, 2, 1))  # within the retry period: dropped, not tried
    now[0] += event_channel.RETRY_SECONDS + 1
    channel.publish(events(user, 3, 1))

    assert [e.sequence for e in received(pubsub, 1)] == [3]


def test_a_thousand_publishes_leave_few_replies_unread(redis_client: redis.Redis) -> None:
    channel = RedisEventChannel(redis_client)
    user = UserId(uuid4())
    for n in range(1, 1001):
        channel.publish(events(user, n, 1))
        time.sleep(0.0005)

    # Redis answers every PUBLISH; those answers are read as they come, not left to pile up.
    assert channel._unread <= event_channel.UNREAD_REPLIES + 1

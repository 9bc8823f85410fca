"""Task events fanned out through Redis from a sender thread: every event a process hands
over arrives in order, a forked process sends its own, and neither a full buffer nor a
Redis that does not answer ever blocks or fails the caller."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from uuid import uuid4

import redis

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


def test_a_forked_process_sends_its_events_from_a_sender_of_its_own(
    redis_client: redis.Redis,
) -> None:
    user = UserId(uuid4())
    pubsub = redis_client.pubsub()
    pubsub.psubscribe(f"{CHANNEL_PREFIX}{user}")
    channel = RedisEventChannel(redis_client)
    channel.publish(events(user, 1, 1))  # the parent's sender runs now
    assert [e.sequence for e in received(pubsub, 1)] == [1]

    child = os.fork()
    if child == 0:  # as a prefork worker's pool process: no thread came along
        channel.publish(events(user, 2, 3))
        time.sleep(1.0)
        os._exit(0)
    os.waitpid(child, 0)

    assert [e.sequence for e in received(pubsub, 3)] == [2, 3, 4]


def test_publishing_never_blocks_or_raises_when_redis_is_gone_or_the_buffer_is_full() -> None:
    nowhere = redis.Redis(port=free_port(), socket_timeout=0.2, socket_connect_timeout=0.2)
    channel = RedisEventChannel(nowhere, max_pending=100)
    user = UserId(uuid4())

    started = time.monotonic()
    for n in range(1, 5001, 50):
        channel.publish(events(user, n, 50))
    took = time.monotonic() - started

    # 5,000 events against a dead server and a buffer of 100: handed over or dropped, at
    # once, and no exception reached the caller (each publish follows a commit).
    assert took < 2.0, took

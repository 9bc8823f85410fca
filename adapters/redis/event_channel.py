"""Task events through Redis pub/sub: workers and the API publish each committed event on
its owner's channel; each API process holds one subscription and hands the events to its
streams. A hint only: streams catch up from the events table, the truth."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry

from application.ports import EventChannel
from domain.event import EventKind, TaskEvent
from domain.task import TaskId
from domain.user import UserId

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "taskhub:events:"
TIMEOUT_SECONDS = 0.5
# Events queued for one slow stream before it is told to catch up from the table instead.
STREAM_BUFFER = 256
# After a failed connect or send, events are dropped this long before Redis is tried again.
RETRY_SECONDS = 5.0
# Replies to PUBLISH left unread before the next publish reads those that have arrived.
UNREAD_REPLIES = 64


def event_to_json(event: TaskEvent) -> str:
    return json.dumps(
        {
            "user_id": str(event.user_id),
            "sequence": event.sequence,
            "task_id": str(event.task_id),
            "kind": event.kind.value,
            "data": event.data,
            "occurred_at": event.occurred_at.isoformat(),
        },
        separators=(",", ":"),
    )


def event_from_json(text: str | bytes) -> TaskEvent:
    fields: dict[str, Any] = json.loads(text)
    return TaskEvent(
        user_id=UserId(UUID(fields["user_id"])),
        sequence=int(fields["sequence"]),
        task_id=TaskId(UUID(fields["task_id"])),
        kind=EventKind(fields["kind"]),
        data=fields["data"],
        occurred_at=datetime.fromisoformat(fields["occurred_at"]),
    )


class RedisEventChannel(EventChannel):
    """Publishes after the commit, pipelined: the PUBLISH commands are written to the socket
    and the caller goes on without waiting for Redis's replies, which are read (and
    discarded) a batch at a time on later publishes.

    Measured on a no-op run (bench/, docs/benchmarks.md): waiting for a round trip per
    event cost a third of the run, and so did handing the events to a sender thread (each
    of the run's blocking calls let that thread take the GIL). Writing to the socket costs a
    send. A hint only: a Redis that is gone or does not answer costs at most one connect or
    send timeout (`TIMEOUT_SECONDS`) per `RETRY_SECONDS`, its events are dropped meanwhile,
    and streams catch up from the table. Never raises. A forked process (a worker's pool
    process) opens a connection of its own; one object serves many threads (the lock).
    """

    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._lock = threading.Lock()
        # redis-py's connection classes are not typed: Any, not a blanket of ignores.
        self._connection: Any = None
        self._owner_pid = os.getpid()
        self._unread = 0  # replies Redis has sent or will send that were not read yet
        self._retry_at = 0.0
        self._dropped = 0

    @classmethod
    def from_url(cls, url: str) -> RedisEventChannel:
        return cls(
            redis.Redis.from_url(
                url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
            )
        )

    def publish(self, events: Sequence[TaskEvent]) -> None:
        if not events:
            return
        commands = [
            ("PUBLISH", f"{CHANNEL_PREFIX}{event.user_id}", event_to_json(event))
            for event in events
        ]
        with self._lock:
            connection = self._connected()
            if connection is None:
                self._dropped += len(events)
                return
            try:
                if self._unread >= UNREAD_REPLIES:
                    self._read_replies(connection)
                connection.send_packed_command(
                    connection.pack_commands(commands), check_health=False
                )
                self._unread += len(commands)
            except (redis.RedisError, OSError) as exc:
                self._give_up_for_a_while(f"task events not fanned out: {exc}")
                self._dropped += len(events)

    def _connected(self) -> Any:
        if self._owner_pid != os.getpid():
            # A forked child: the parent's socket is the parent's. Forget it, never close it.
            self._owner_pid, self._connection, self._unread = os.getpid(), None, 0
        if self._connection is not None:
            return self._connection
        if time.monotonic() < self._retry_at:
            return None
        connection: Any = self._client.connection_pool.make_connection()
        connection.retry = Retry(NoBackoff(), 0)  # one try: the next comes after RETRY_SECONDS
        try:
            connection.connect()
        except (redis.RedisError, OSError) as exc:
            self._give_up_for_a_while(f"task events not fanned out: {exc}")
            return None
        if self._dropped:
            logger.warning("%d task events not fanned out (streams catch up)", self._dropped)
            self._dropped = 0
        self._connection = connection
        return connection

    def _read_replies(self, connection: Any) -> None:
        """Read the replies that have arrived, without waiting for the rest."""
        while self._unread and connection.can_read(timeout=0):
            connection.read_response()
            self._unread -= 1

    def _give_up_for_a_while(self, reason: str) -> None:
        if self._connection is not None:
            self._connection.disconnect()
        self._connection, self._unread = None, 0
        if time.monotonic() >= self._retry_at:  # one line per outage period, not per event
            logger.warning("%s (streams catch up from the table)", reason)
        self._retry_at = time.monotonic() + RETRY_SECONDS


class SilentEventChannel(EventChannel):
    """Without Redis (a RabbitMQ broker): streams read the events table on their own."""

    def publish(self, events: Sequence[TaskEvent]) -> None:
        return None


class EventFanOut:
    """One pattern subscription per API process, shared by every stream in it: a stream is a
    bounded asyncio queue, not a connection. Started on the first stream, in its loop."""

    live = True  # events arrive as they happen; streams check the table only now and then

    def __init__(self, url: str) -> None:
        self._url = url
        self._streams: dict[UserId, set[asyncio.Queue[TaskEvent | None]]] = {}
        self._reader: asyncio.Task[None] | None = None

    def follow(self, user_id: UserId) -> asyncio.Queue[TaskEvent | None]:
        """A queue of the user's events; None in it means "events were dropped: catch up"."""
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        queue: asyncio.Queue[TaskEvent | None] = asyncio.Queue(STREAM_BUFFER)
        self._streams.setdefault(user_id, set()).add(queue)
        return queue

    def leave(self, user_id: UserId, queue: asyncio.Queue[TaskEvent | None]) -> None:
        streams = self._streams.get(user_id)
        if streams is not None:
            streams.discard(queue)
            if not streams:
                del self._streams[user_id]

    @property
    def streams(self) -> int:
        return sum(len(queues) for queues in self._streams.values())

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def _read(self) -> None:
        delay = 0.5
        while True:
            client = redis.asyncio.Redis.from_url(self._url)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                delay = 0.5
                self._tell_all_to_catch_up()  # anything published before we listened
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        self._hand_out(event_from_json(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("event subscription lost, reconnecting: %s", exc)
                self._tell_all_to_catch_up()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    def _hand_out(self, event: TaskEvent) -> None:
        for queue in self._streams.get(event.user_id, ()):
            _offer(queue, event)

    def _tell_all_to_catch_up(self) -> None:
        for queues in self._streams.values():
            for queue in queues:
                _offer(queue, None)


class PollingFanOut:
    """Without Redis: no live events; streams read the table every second."""

    live = False

    def follow(self, user_id: UserId) -> asyncio.Queue[TaskEvent | None]:
        return asyncio.Queue(1)

    def leave(self, user_id: UserId, queue: asyncio.Queue[TaskEvent | None]) -> None:
        return None

    async def close(self) -> None:
        return None


def _offer(queue: asyncio.Queue[TaskEvent | None], event: TaskEvent | None) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        # A stream too slow to keep up: drop what it holds and have it read the table.
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

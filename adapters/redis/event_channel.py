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
from collections import deque
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import redis
import redis.asyncio

from application.ports import EventChannel
from domain.event import EventKind, TaskEvent
from domain.task import TaskId
from domain.user import UserId

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "taskhub:events:"
TIMEOUT_SECONDS = 0.5
# Events queued for one slow stream before it is told to catch up from the table instead.
STREAM_BUFFER = 256
# Events waiting for the sender thread before new ones are dropped (streams catch up).
MAX_PENDING = 10_000


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
    """Publishes after the commit, from a thread of its own: the transaction that made an
    event never waits for Redis (a round trip per run was a third of a no-op run's time).
    Events wait in a bounded buffer; a Redis that does not answer, or a buffer that fills,
    costs streams a few seconds (they catch up from the table), never the write that made
    the event. The thread is started on first use in each process, so a forked worker
    child gets its own."""

    def __init__(self, client: redis.Redis, *, max_pending: int = MAX_PENDING) -> None:
        self._client = client
        self._max_pending = max_pending
        self._pending: deque[TaskEvent] = deque()
        self._wake = threading.Event()
        self._sender_pid: int | None = None
        self._start_lock = threading.Lock()
        self._dropped = 0

    @classmethod
    def from_url(cls, url: str) -> RedisEventChannel:
        return cls(
            redis.Redis.from_url(
                url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
            )
        )

    def publish(self, events: Sequence[TaskEvent]) -> None:
        if len(self._pending) + len(events) > self._max_pending:
            self._dropped += len(events)
            return
        self._pending.extend(events)
        if self._sender_pid != os.getpid():
            self._start_sender()
        if not self._wake.is_set():  # setting it takes a lock and notifies: skip when set
            self._wake.set()

    def _start_sender(self) -> None:
        with self._start_lock:
            if self._sender_pid == os.getpid():
                return
            # In a forked child the parent's thread does not exist: start this process's own.
            self._wake = threading.Event()
            self._sender_pid = os.getpid()
            threading.Thread(target=self._send_forever, name="task-events", daemon=True).start()

    def _send_forever(self) -> None:
        while True:
            self._wake.wait()
            while self._pending:
                batch = [self._pending.popleft() for _ in range(min(len(self._pending), 500))]
                self._send(batch)
            self._wake.clear()
            if self._pending:  # handed over between the last pop and the clear
                self._wake.set()

    def _send(self, batch: list[TaskEvent]) -> None:
        if self._dropped:
            logger.warning(
                "%d task events not fanned out: too many waiting (streams will catch up)",
                self._dropped,
            )
            self._dropped = 0
        try:
            pipe = self._client.pipeline(transaction=False)
            for event in batch:
                pipe.publish(f"{CHANNEL_PREFIX}{event.user_id}", event_to_json(event))
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("task events not fanned out (streams will catch up): %s", exc)


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

"""The task dispatcher and the broker probe, implemented with a Celery app."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from celery import Celery
from kombu.messaging import Producer

from adapters.celery.connection import FailFastAMQP, torn_down_on_error
from adapters.celery.errors import broker_errors, broker_unavailable_on
from adapters.celery.topology import (
    BROKER_TIMEOUT,
    destination,
    is_redis,
    publish_options,
    task_name,
)
from application.ports import DependencyProbe, TaskDispatcher
from domain.task import Task, TaskId

# Messages per pipeline when publishing several tasks: one batch submission in one trip.
PUBLISH_BATCH = 500
# On Redis: the run_id of the server whose epoch was last marked recovered.
EPOCH_KEY = "taskhub:broker-epoch"


class CeleryTaskDispatcher(TaskDispatcher):
    """Sends `taskhub.<task_type>` messages whose only argument, and id, is the task id.

    The app must come from `create_celery_app` (or be built with `amqp=FailFastAMQP` and
    `celery_settings`): only then is every broker call bounded to a couple of seconds, so a
    broker that goes away fails a request instead of hanging it forever.
    """

    def __init__(self, app: Celery) -> None:
        if not isinstance(app.amqp, FailFastAMQP):
            raise TypeError(
                "CeleryTaskDispatcher needs a Celery app built with amqp=FailFastAMQP "
                "(use adapters.celery.topology.create_celery_app): with kombu's default "
                "connections, revoke() retries forever once the broker goes away"
            )
        self._app = app
        self._errors = broker_errors(app)
        self._broker_url = str(app.conf.broker_url or "")
        self._redis = is_redis(self._broker_url)

    def enqueue(self, tasks: Sequence[Task], *, countdown: float | None = None) -> None:
        """Several tasks go out through one producer in kombu's publish batches: on Redis,
        one non-transactional pipeline (one round trip) per PUBLISH_BATCH messages, three
        times the rate of one LPUSH each (measured: 500 messages in 63 ms instead of 184 ms).
        A batch that fails midway may have delivered some messages; the error leaves every
        task undispatched, the relay publishes them again and the worker's claim turns a
        second copy into a no-op, as for any failed publish. Transports without batches
        (AMQP, a Redis client that retries) publish one by one."""
        if not tasks:
            return
        with (
            broker_unavailable_on(self._errors, "publish"),
            self._app.producer_or_acquire() as producer,
        ):
            if len(tasks) == 1:
                self._publish(producer, tasks[0], countdown)
                return
            with producer.batch(max_size=PUBLISH_BATCH):
                for task in tasks:
                    self._publish(producer, task, countdown)

    def revoke(self, task_id: TaskId) -> None:
        with broker_unavailable_on(self._errors, "revoke"):
            self._app.control.revoke(str(task_id))

    def new_epoch(self) -> str | None:
        """On Redis the epoch is the server's run_id (INFO), new with every start of a
        redis-server: a restart, even one that kept its data, or a failover to another
        server begins a new epoch. Redis cannot tell which of those lost messages, so all of
        them count (the cost: a restart republishes the pending tasks, duplicates that the
        claim discards). The epoch last recovered is the value of EPOCH_KEY, gone with the
        data if Redis lost it. RabbitMQ keeps what it confirmed (durable queues, persistent
        messages): None."""
        if not self._redis:
            return None
        with self._redis_client("read epoch") as client:
            current = str(client.info("server")["run_id"])
            recovered = client.get(EPOCH_KEY)
        if isinstance(recovered, bytes):
            recovered = recovered.decode()
        return None if recovered == current else current

    def mark_epoch_recovered(self, epoch: str) -> None:
        if self._redis:
            with self._redis_client("record epoch") as client:
                client.set(EPOCH_KEY, epoch)

    @contextmanager
    def _redis_client(self, action: str) -> Iterator[Any]:
        """kombu's client for the broker (its address, password, TLS, Sentinel, timeouts) on a
        connection of its own, made within the broker timeout, closed afterwards."""
        with (
            broker_unavailable_on(self._errors, action),
            torn_down_on_error(self._app.connection_for_write()) as connection,
        ):
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
            yield cast(Any, connection.default_channel).client  # kombu's Redis channel

    def _publish(self, producer: Producer, task: Task, countdown: float | None) -> None:
        exchange, key = destination(task.queue, task.task_type, broker_url=self._broker_url)
        self._app.send_task(
            task_name(task.task_type),
            args=[str(task.id)],
            task_id=str(task.id),
            queue=task.queue,
            exchange=exchange,
            routing_key=key,
            serializer="json",
            countdown=countdown,
            producer=producer,
            # No retry: a failed publish leaves the task to the outbox relay.
            retry=False,
            **publish_options(self._broker_url),
        )


class CeleryBrokerProbe(DependencyProbe):
    """Opens a fresh connection (on Redis that includes a PING) and closes it again."""

    name = "broker"

    def __init__(self, app: Celery, *, timeout: float = BROKER_TIMEOUT) -> None:
        self._app = app
        self._timeout = timeout
        self._errors = broker_errors(app)

    def check(self) -> None:
        # A new connection rather than a pooled one, which can look alive after the broker
        # is gone; bounded by `timeout` whatever the app's connection class.
        with (
            broker_unavailable_on(self._errors, "connect"),
            self._app.connection_for_write() as connection,
        ):
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=self._timeout)

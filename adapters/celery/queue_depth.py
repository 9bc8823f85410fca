"""How many messages wait in each taskhub queue, read from the broker."""

from __future__ import annotations

from typing import Any, cast

from amqp.exceptions import NotFound
from celery import Celery

from adapters.celery.connection import torn_down_on_error
from adapters.celery.errors import broker_errors, broker_unavailable_on
from adapters.celery.topology import BROKER_TIMEOUT, QUEUE_NAMES, is_redis
from application.ports import QueueDepths


class CeleryQueueDepths(QueueDepths):
    """Messages waiting to be delivered: a message a worker holds (running, prefetched, or an
    ETA it waits for) is no longer in the queue, so it is not counted."""

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._errors = broker_errors(app)
        self._redis = is_redis(str(app.conf.broker_url or ""))

    def read(self) -> dict[str, int]:
        """Raises DependencyUnavailableError when the broker cannot be read."""
        with (
            broker_unavailable_on(self._errors, "queue depth"),
            torn_down_on_error(self._app.connection_for_read()) as connection,
        ):
            # Connected once, within the timeout: a channel opened on a connection that is
            # not would connect with the transport's retries (measured: 6 s on a hung broker).
            connection.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
            if self._redis:
                # A queue is a list named after it (one priority step, see topology); an
                # empty list does not exist in Redis, which LLEN reports as 0.
                client = cast(Any, connection.default_channel).client  # kombu's Redis channel
                return {queue: int(client.llen(queue)) for queue in QUEUE_NAMES}
            return {queue: _declared_count(connection, queue) for queue in QUEUE_NAMES}


def _declared_count(connection: Any, queue: str) -> int:
    """A passive declare's message count on RabbitMQ; 0 for a queue not declared yet (no
    worker started, nothing published to it), which RabbitMQ answers with 404, closing the
    channel: hence a channel per queue."""
    channel = connection.channel()
    try:
        return int(channel.queue_declare(queue=queue, passive=True).message_count)
    except NotFound:
        return 0
    finally:
        # Closing a channel the broker already closed is a no-op.
        channel.close()

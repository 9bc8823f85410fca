"""How many messages wait in each taskhub queue, read from the broker."""

from __future__ import annotations

from celery import Celery

from adapters.celery.errors import broker_errors, broker_unavailable_on
from adapters.celery.topology import QUEUE_NAMES, is_redis


class CeleryQueueDepths:
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
            self._app.connection_for_read() as connection,
        ):
            channel = connection.default_channel
            if self._redis:
                # A queue is a list named after it (one priority step, see topology); an
                # empty list does not exist in Redis, which LLEN reports as 0.
                return {queue: int(channel.client.llen(queue)) for queue in QUEUE_NAMES}
            return {
                queue: channel.queue_declare(queue=queue, passive=True).message_count
                for queue in QUEUE_NAMES
            }

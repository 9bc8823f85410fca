"""Queueing webhook deliveries for the workers of the webhooks queue."""

from __future__ import annotations

from collections.abc import Sequence

from celery import Celery

from adapters.celery.errors import broker_errors, broker_unavailable_on
from adapters.celery.topology import (
    WEBHOOK_QUEUE,
    WEBHOOK_TASK,
    destination,
    publish_options,
    task_name,
)
from application.ports import WebhookQueue
from domain.webhook import WebhookDeliveryId


class CeleryWebhookQueue(WebhookQueue):
    """One `taskhub.webhooks.deliver` message per delivery, its id the only argument. A lost
    message costs a delay, not the delivery: its claim lapses and the sweep queues it again."""

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._errors = broker_errors(app)
        self._broker_url = str(app.conf.broker_url or "")

    def enqueue(self, delivery_ids: Sequence[WebhookDeliveryId]) -> None:
        exchange, key = destination(WEBHOOK_QUEUE, WEBHOOK_TASK, broker_url=self._broker_url)
        with (
            broker_unavailable_on(self._errors, "publish"),
            self._app.producer_or_acquire() as producer,
        ):
            for delivery_id in delivery_ids:
                self._app.send_task(
                    task_name(WEBHOOK_TASK),
                    args=[str(delivery_id)],
                    queue=WEBHOOK_QUEUE,
                    exchange=exchange,
                    routing_key=key,
                    serializer="json",
                    producer=producer,
                    retry=False,
                    **publish_options(self._broker_url),
                )

"""The sweep that hands due webhook deliveries to the senders (Beat, every few seconds)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWork, WebhookQueue
from domain.webhook import WebhookDeliveryId


@dataclass(frozen=True, slots=True)
class DispatchDueWebhooks:
    """Claims up to `batch_size` due deliveries for `hold` (longer than a send takes) and
    queues them for the senders. A claim whose message is lost, or whose sender dies,
    lapses after `hold` and the next sweep takes the delivery again: none is lost, and no
    two attempts of one delivery overlap. Returns the ids queued."""

    uow: UnitOfWork
    clock: Clock
    queue: WebhookQueue
    hold: timedelta
    batch_size: int = 200

    def execute(self) -> list[WebhookDeliveryId]:
        now = self.clock.now()
        with self.uow:
            due = self.uow.webhooks.list_due_deliveries(now=now, limit=self.batch_size)
            for delivery in due:
                self.uow.webhooks.update_delivery(delivery.claim(at=now, hold=self.hold))
            self.uow.commit()
        ids = [delivery.id for delivery in due]
        if ids:
            self.queue.enqueue(ids)
        return ids

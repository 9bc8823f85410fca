"""The delivery log of a webhook endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_webhook_endpoint
from application.ports import UnitOfWork
from domain.policy import Action
from domain.user import User
from domain.webhook import WebhookDelivery, WebhookEndpointId


@dataclass(frozen=True, slots=True)
class ListWebhookDeliveries:
    """The endpoint's deliveries, newest event first, each with its attempts and next
    retry. Raises NotFoundError."""

    uow: UnitOfWork

    def execute(
        self, actor: User, endpoint_id: WebhookEndpointId, *, limit: int = 50
    ) -> list[WebhookDelivery]:
        with self.uow:
            load_webhook_endpoint(self.uow, actor, endpoint_id, Action.READ)
            return self.uow.webhooks.deliveries_of(endpoint_id, limit=limit)

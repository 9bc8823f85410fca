"""Deleting a webhook endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_webhook_endpoint
from application.ports import UnitOfWork
from domain.policy import Action
from domain.user import User
from domain.webhook import WebhookEndpointId


@dataclass(frozen=True, slots=True)
class DeleteWebhookEndpoint:
    """Removes the endpoint and its delivery log; nothing more is sent to it.
    Raises NotFoundError."""

    uow: UnitOfWork

    def execute(self, actor: User, endpoint_id: WebhookEndpointId) -> None:
        with self.uow:
            endpoint = load_webhook_endpoint(self.uow, actor, endpoint_id, Action.DELETE)
            self.uow.webhooks.delete_endpoint(endpoint)
            self.uow.commit()

"""Rotating a webhook endpoint's signing secret."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_webhook_endpoint
from application.ports import UnitOfWork
from domain.policy import Action
from domain.user import User
from domain.webhook import WebhookEndpoint, WebhookEndpointId


@dataclass(frozen=True, slots=True)
class RotateWebhookSecret:
    """A new secret for the endpoint, returned once; every attempt from the commit on is
    signed with it, retries of earlier events too. Raises NotFoundError."""

    uow: UnitOfWork

    def execute(self, actor: User, endpoint_id: WebhookEndpointId) -> WebhookEndpoint:
        with self.uow:
            endpoint = load_webhook_endpoint(self.uow, actor, endpoint_id, Action.CHANGE)
            rotated = endpoint.with_new_secret()
            self.uow.webhooks.update_endpoint(rotated)
            self.uow.commit()
        return rotated

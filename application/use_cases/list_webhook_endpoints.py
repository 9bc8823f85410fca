"""Listing one's webhook endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.policy import ensure_active
from domain.user import User
from domain.webhook import WebhookEndpoint


@dataclass(frozen=True, slots=True)
class ListWebhookEndpoints:
    """The actor's endpoints, oldest first (a disabled one with its reason)."""

    uow: UnitOfWork

    def execute(self, actor: User) -> list[WebhookEndpoint]:
        ensure_active(actor)
        with self.uow:
            return self.uow.webhooks.endpoints_of(actor.id)

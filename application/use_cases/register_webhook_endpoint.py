"""Registering a webhook endpoint."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from domain.policy import ensure_active
from domain.user import User
from domain.webhook import WebhookEndpoint


@dataclass(frozen=True, slots=True)
class RegisterWebhookEndpoint:
    """A new endpoint of the actor's, for the event types it names; its signing secret is
    in the returned endpoint, and the caller shows it once. Events recorded from the commit
    on are delivered to it. Raises ValidationError (url, events)."""

    uow: UnitOfWork
    clock: Clock

    def execute(self, actor: User, *, url: str, events: list[str]) -> WebhookEndpoint:
        ensure_active(actor)
        endpoint = WebhookEndpoint.register(actor.id, url, events, at=self.clock.now())
        with self.uow:
            self.uow.webhooks.add_endpoint(endpoint)
            self.uow.commit()
        return endpoint

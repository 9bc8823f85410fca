"""Sending a webhook delivery again, on its owner's request."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_webhook_endpoint
from application.ports import Clock, UnitOfWork
from domain.errors import NotFoundError, ValidationError
from domain.policy import Action
from domain.user import User
from domain.webhook import WebhookDelivery, WebhookDeliveryId, WebhookEndpointId


@dataclass(frozen=True, slots=True)
class RedeliverWebhook:
    """Makes the delivery due at once, with a new round of retries, whatever became of it.
    Raises NotFoundError, ValidationError (a disabled endpoint), ConflictError
    (an attempt is in flight: one at a time per endpoint and event)."""

    uow: UnitOfWork
    clock: Clock

    def execute(
        self, actor: User, endpoint_id: WebhookEndpointId, delivery_id: WebhookDeliveryId
    ) -> WebhookDelivery:
        with self.uow:
            endpoint = load_webhook_endpoint(self.uow, actor, endpoint_id, Action.CHANGE)
            try:
                delivery = self.uow.webhooks.get_delivery(delivery_id)
            except NotFoundError:
                delivery = None
            if delivery is None or delivery.endpoint_id != endpoint.id:
                raise NotFoundError(
                    f"delivery {delivery_id} not found", delivery_id=str(delivery_id)
                )
            if not endpoint.enabled:
                raise ValidationError(
                    f"the webhook is disabled: {endpoint.disabled_reason}", field="webhook_id"
                )
            again = delivery.redelivered(at=self.clock.now())
            self.uow.webhooks.update_delivery(again)
            self.uow.commit()
        return again

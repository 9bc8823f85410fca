"""Sending one webhook delivery (a worker of the webhooks queue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWork, WebhookSender
from domain.errors import NotFoundError
from domain.webhook import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookMessage,
    stored_response,
)


@dataclass(frozen=True, slots=True)
class DeliverWebhook:
    """Makes one attempt of a claimed delivery: signs the event with its endpoint's secret
    (the owner's callback secret for a callback URL), sends it, and records the answer:
    done on a 2xx, else the next attempt per `retry_schedule` (seconds before each attempt
    of a round), until it runs out. An endpoint failing for `disable_after` is disabled,
    its pending deliveries given up. A delivery that is gone, done, or whose endpoint is
    disabled is left alone. The send happens outside any transaction.

    Returns the delivery as recorded, or None when there was nothing to send."""

    uow: UnitOfWork
    clock: Clock
    sender: WebhookSender
    retry_schedule: tuple[float, ...]
    disable_after: timedelta

    def execute(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery | None:
        with self.uow:
            try:
                delivery = self.uow.webhooks.get_delivery(delivery_id)
            except NotFoundError:
                return None  # its endpoint was deleted since
            if delivery.status is not DeliveryStatus.PENDING:
                return None
            secret = self._secret(delivery)
        if secret is None:
            return self._give_up(delivery_id)
        message = WebhookMessage.of(delivery, secret, at=self.clock.now())
        response = self.sender.send(delivery.url, headers=message.headers, body=message.body)
        attempt = DeliveryAttempt(
            at=self.clock.now(),
            status_code=response.status_code,
            response=stored_response(response.body) if response.body else None,
            error=response.error,
        )
        with self.uow:
            current = self.uow.webhooks.get_delivery(delivery_id)
            recorded = current.attempted(attempt, schedule=self.retry_schedule)
            self.uow.webhooks.update_delivery(recorded)
            if current.endpoint_id is not None:
                self._judge_endpoint(current, attempt)
            self.uow.commit()
        return recorded

    def _secret(self, delivery: WebhookDelivery) -> str | None:
        if delivery.endpoint_id is None:
            return self.uow.webhooks.callback_secret(delivery.user_id)
        endpoint = self.uow.webhooks.get_endpoint(delivery.endpoint_id)
        return endpoint.secret if endpoint.enabled else None

    def _judge_endpoint(self, delivery: WebhookDelivery, attempt: DeliveryAttempt) -> None:
        assert delivery.endpoint_id is not None
        endpoint = self.uow.webhooks.get_endpoint(delivery.endpoint_id)
        if attempt.succeeded:
            judged = endpoint.delivered()
        else:
            why = attempt.error or f"HTTP {attempt.status_code}"
            judged = endpoint.failed(at=attempt.at, disable_after=self.disable_after, why=why)
        if judged != endpoint:
            self.uow.webhooks.update_endpoint(judged)

    def _give_up(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery:
        with self.uow:
            given_up = self.uow.webhooks.get_delivery(delivery_id).given_up()
            self.uow.webhooks.update_delivery(given_up)
            self.uow.commit()
        return given_up

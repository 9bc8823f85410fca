"""In-memory webhook endpoints, callbacks and deliveries: staged in the unit of work, kept
on commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from application.ports import WebhookQueue, WebhookRepository, WebhookResponse, WebhookSender
from domain.errors import NotFoundError
from domain.user import UserId
from domain.webhook import (
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookEndpoint,
    WebhookEndpointId,
)


@dataclass
class WebhookStore:
    """What has been committed, shared by every unit of work of one test."""

    endpoints: dict[WebhookEndpointId, WebhookEndpoint] = field(default_factory=dict)
    callbacks: dict[UUID, str] = field(default_factory=dict)
    callback_secrets: dict[UserId, str] = field(default_factory=dict)
    deliveries: dict[WebhookDeliveryId, WebhookDelivery] = field(default_factory=dict)


class InMemoryWebhookRepository(WebhookRepository):
    def __init__(self, store: WebhookStore) -> None:
        self._store = store
        self._staged = WebhookStore()
        self._deleted: set[WebhookEndpointId] = set()
        self._purged: set[WebhookDeliveryId] = set()

    def _endpoints(self) -> dict[WebhookEndpointId, WebhookEndpoint]:
        merged = {**self._store.endpoints, **self._staged.endpoints}
        return {k: v for k, v in merged.items() if k not in self._deleted}

    def _deliveries(self) -> dict[WebhookDeliveryId, WebhookDelivery]:
        merged = {**self._store.deliveries, **self._staged.deliveries}
        return {
            k: v
            for k, v in merged.items()
            if v.endpoint_id not in self._deleted and k not in self._purged
        }

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._staged.endpoints[endpoint.id] = endpoint

    def get_endpoint(self, endpoint_id: WebhookEndpointId) -> WebhookEndpoint:
        try:
            return self._endpoints()[endpoint_id]
        except KeyError:
            raise NotFoundError(f"webhook {endpoint_id} not found") from None

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._staged.endpoints[endpoint.id] = endpoint

    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._deleted.add(endpoint.id)

    def endpoints_of(self, user_id: UserId) -> list[WebhookEndpoint]:
        mine = [e for e in self._endpoints().values() if e.user_id == user_id]
        return sorted(mine, key=lambda e: (e.created_at, str(e.id)))

    def set_callback(self, subject_id: UUID, url: str) -> None:
        self._staged.callbacks[subject_id] = url

    def callback_of(self, subject_id: UUID) -> str | None:
        return self._staged.callbacks.get(subject_id) or self._store.callbacks.get(subject_id)

    def callback_secret(self, user_id: UserId) -> str | None:
        return self._staged.callback_secrets.get(user_id) or self._store.callback_secrets.get(
            user_id
        )

    def set_callback_secret(self, user_id: UserId, secret: str) -> None:
        self._staged.callback_secrets[user_id] = secret

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        self._staged.deliveries[delivery.id] = delivery

    def get_delivery(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery:
        try:
            return self._deliveries()[delivery_id]
        except KeyError:
            raise NotFoundError(f"delivery {delivery_id} not found") from None

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        self._staged.deliveries[delivery.id] = delivery

    def deliveries_of(self, endpoint_id: WebhookEndpointId, *, limit: int) -> list[WebhookDelivery]:
        mine = [d for d in self._deliveries().values() if d.endpoint_id == endpoint_id]
        return sorted(mine, key=lambda d: (d.sequence, str(d.id)), reverse=True)[:limit]

    def delete_finished_deliveries_before(self, cutoff: datetime, *, limit: int) -> int:
        old = [
            d.id
            for d in self._deliveries().values()
            if d.status is not DeliveryStatus.PENDING and d.created_at < cutoff
        ][:limit]
        self._purged.update(old)
        return len(old)

    def list_due_deliveries(self, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        due = [d for d in self._deliveries().values() if d.due(now)]
        return sorted(due, key=lambda d: (d.next_attempt_at or now, str(d.id)))[:limit]

    def pending(self) -> list[WebhookDelivery]:
        return [d for d in self._deliveries().values() if d.status is DeliveryStatus.PENDING]

    def apply(self) -> None:
        for endpoint_id in self._deleted:
            self._store.endpoints.pop(endpoint_id, None)
        self._store.deliveries = {
            k: v for k, v in self._store.deliveries.items() if v.endpoint_id not in self._deleted
        }
        self._store.endpoints.update(self._staged.endpoints)
        self._store.callbacks.update(self._staged.callbacks)
        self._store.callback_secrets.update(self._staged.callback_secrets)
        self._store.deliveries.update(self._staged.deliveries)
        for delivery_id in self._purged:
            self._store.deliveries.pop(delivery_id, None)
        self._staged = WebhookStore()
        self._deleted = set()
        self._purged = set()


class RecordingWebhookQueue(WebhookQueue):
    """Remembers the deliveries queued, in order."""

    def __init__(self) -> None:
        self.queued: list[WebhookDeliveryId] = []

    def enqueue(self, delivery_ids: Sequence[WebhookDeliveryId]) -> None:
        self.queued.extend(delivery_ids)


@dataclass
class ScriptedWebhookSender(WebhookSender):
    """Answers each send with the next of `answers` (the last one repeats), and remembers
    what was sent."""

    answers: list[WebhookResponse] = field(
        default_factory=lambda: [WebhookResponse(status_code=200)]
    )
    sent: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def send(self, url: str, *, headers: dict[str, str], body: bytes) -> WebhookResponse:
        self.sent.append((url, headers, body))
        index = min(len(self.sent) - 1, len(self.answers) - 1)
        return self.answers[index]

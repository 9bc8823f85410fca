"""The SQL repository of webhook endpoints, callbacks and webhook deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Connection, Table, delete, insert, select, true, update

from adapters.sqlalchemy.tables import (
    CallbackRow,
    CallbackSecretRow,
    UserRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)
from application.ports import WebhookRepository
from domain.errors import NotFoundError
from domain.task import TaskId
from domain.user import UserId
from domain.webhook import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookEndpoint,
    WebhookEndpointId,
)

_ENDPOINTS = cast(Table, WebhookEndpointRow.__table__)
_CALLBACKS = cast(Table, CallbackRow.__table__)
_SECRETS = cast(Table, CallbackSecretRow.__table__)
_DELIVERIES = cast(Table, WebhookDeliveryRow.__table__)
_USERS = cast(Table, UserRow.__table__)


class SqlAlchemyWebhookRepository(WebhookRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._connection.execute(insert(_ENDPOINTS).values(_endpoint_values(endpoint)))
        self._mark_user(endpoint.user_id)

    def get_endpoint(self, endpoint_id: WebhookEndpointId) -> WebhookEndpoint:
        row = self._connection.execute(
            select(_ENDPOINTS).where(_ENDPOINTS.c.id == endpoint_id)
        ).first()
        if row is None:
            raise NotFoundError(f"webhook {endpoint_id} not found", webhook_id=str(endpoint_id))
        return _endpoint(row)

    def update_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self._connection.execute(
            update(_ENDPOINTS)
            .where(_ENDPOINTS.c.id == endpoint.id)
            .values(_endpoint_values(endpoint))
        )

    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        # The deliveries first: SQLite enforces no foreign key unless asked to.
        self._connection.execute(
            delete(_DELIVERIES).where(_DELIVERIES.c.endpoint_id == endpoint.id)
        )
        self._connection.execute(delete(_ENDPOINTS).where(_ENDPOINTS.c.id == endpoint.id))

    def endpoints_of(self, user_id: UserId) -> list[WebhookEndpoint]:
        statement = (
            select(_ENDPOINTS)
            .where(_ENDPOINTS.c.user_id == user_id)
            .order_by(_ENDPOINTS.c.created_at, _ENDPOINTS.c.id)
        )
        return [_endpoint(row) for row in self._connection.execute(statement)]

    def set_callback(self, subject_id: UUID, url: str) -> None:
        self._connection.execute(insert(_CALLBACKS).values(subject_id=subject_id, url=url))

    def callback_of(self, subject_id: UUID) -> str | None:
        statement = select(_CALLBACKS.c.url).where(_CALLBACKS.c.subject_id == subject_id)
        return self._connection.execute(statement).scalar_one_or_none()

    def callback_secret(self, user_id: UserId) -> str | None:
        statement = select(_SECRETS.c.secret).where(_SECRETS.c.user_id == user_id)
        return self._connection.execute(statement).scalar_one_or_none()

    def set_callback_secret(self, user_id: UserId, secret: str) -> None:
        replaced = self._connection.execute(
            update(_SECRETS).where(_SECRETS.c.user_id == user_id).values(secret=secret)
        )
        if not replaced.rowcount:
            self._connection.execute(insert(_SECRETS).values(user_id=user_id, secret=secret))
        self._mark_user(user_id)

    def _mark_user(self, user_id: UserId) -> None:
        """From now on the user's events look for their webhooks (users.webhooks, read with
        each event number). Never unset: a stale "yes" costs a query, a wrong "no" would
        lose deliveries. Its row lock orders it with the user's event numbering."""
        self._connection.execute(
            update(_USERS).where(_USERS.c.id == user_id).values(webhooks=true())
        )

    def add_delivery(self, delivery: WebhookDelivery) -> None:
        self._connection.execute(insert(_DELIVERIES).values(_delivery_values(delivery)))

    def get_delivery(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery:
        row = self._connection.execute(
            select(_DELIVERIES).where(_DELIVERIES.c.id == delivery_id)
        ).first()
        if row is None:
            raise NotFoundError(f"delivery {delivery_id} not found", delivery_id=str(delivery_id))
        return _delivery(row)

    def update_delivery(self, delivery: WebhookDelivery) -> None:
        self._connection.execute(
            update(_DELIVERIES)
            .where(_DELIVERIES.c.id == delivery.id)
            .values(_delivery_values(delivery))
        )

    def deliveries_of(self, endpoint_id: WebhookEndpointId, *, limit: int) -> list[WebhookDelivery]:
        statement = (
            select(_DELIVERIES)
            .where(_DELIVERIES.c.endpoint_id == endpoint_id)
            .order_by(_DELIVERIES.c.sequence.desc(), _DELIVERIES.c.id.desc())
            .limit(limit)
        )
        return [_delivery(row) for row in self._connection.execute(statement)]

    def delete_finished_deliveries_before(self, cutoff: datetime, *, limit: int) -> int:
        oldest = (
            select(_DELIVERIES.c.id)
            .where(
                _DELIVERIES.c.status != DeliveryStatus.PENDING.value,
                _DELIVERIES.c.created_at < cutoff,
            )
            .limit(limit)
        )
        statement = delete(_DELIVERIES).where(_DELIVERIES.c.id.in_(oldest.scalar_subquery()))
        return int(self._connection.execute(statement).rowcount or 0)

    def list_due_deliveries(self, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        claimable = (_DELIVERIES.c.claimed_until.is_(None)) | (_DELIVERIES.c.claimed_until <= now)
        statement = (
            select(_DELIVERIES)
            .where(
                _DELIVERIES.c.status == DeliveryStatus.PENDING.value,
                _DELIVERIES.c.next_attempt_at <= now,
                claimable,
            )
            .order_by(_DELIVERIES.c.next_attempt_at, _DELIVERIES.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_delivery(row) for row in self._connection.execute(statement)]


def _endpoint_values(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "user_id": endpoint.user_id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "secret": endpoint.secret,
        "created_at": endpoint.created_at,
        "failing_since": endpoint.failing_since,
        "disabled_at": endpoint.disabled_at,
        "disabled_reason": endpoint.disabled_reason,
    }


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=WebhookEndpointId(row.id),
        user_id=UserId(row.user_id),
        url=row.url,
        events=tuple(row.events),
        secret=row.secret,
        created_at=row.created_at,
        failing_since=row.failing_since,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
    )


def _delivery_values(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "user_id": delivery.user_id,
        "endpoint_id": delivery.endpoint_id,
        "sequence": delivery.sequence,
        "event_type": delivery.event_type,
        "task_id": delivery.task_id,
        "payload": delivery.payload,
        "url": delivery.url,
        "status": delivery.status.value,
        "next_attempt_at": delivery.next_attempt_at,
        "claimed_until": delivery.claimed_until,
        "attempts": [attempt.as_json() for attempt in delivery.attempts],
        "round_start": delivery.round_start,
        "created_at": delivery.created_at,
    }


def _delivery(row: Any) -> WebhookDelivery:
    return WebhookDelivery(
        id=WebhookDeliveryId(row.id),
        user_id=UserId(row.user_id),
        sequence=row.sequence,
        event_type=row.event_type,
        task_id=TaskId(row.task_id),
        payload=row.payload,
        url=row.url,
        endpoint_id=WebhookEndpointId(row.endpoint_id) if row.endpoint_id else None,
        created_at=row.created_at,
        status=DeliveryStatus(row.status),
        next_attempt_at=row.next_attempt_at,
        claimed_until=row.claimed_until,
        attempts=tuple(DeliveryAttempt.from_json(a) for a in row.attempts),
        round_start=row.round_start,
    )

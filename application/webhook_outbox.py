"""The webhooks' outbox: each task event becomes a delivery for every endpoint of its owner
subscribed to its type, and for the task's (or workflow's) callback URL when the event is
its end, staged
in the transaction that records the event."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from application.ports import UnitOfWork
from domain.errors import ValidationError
from domain.event import TaskEvent
from domain.user import UserId
from domain.webhook import (
    CALLBACK_EVENT_TYPES,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointId,
)


def stage_deliveries(uow: UnitOfWork, events: Sequence[TaskEvent]) -> list[WebhookDelivery]:
    """The deliveries of `events` (just recorded), staged in their transaction. A user
    without webhooks costs nothing more (see EventRepository.wants_webhooks); one with them,
    a read of their endpoints per transaction and of a callback per ending event."""
    deliveries: list[WebhookDelivery] = []
    endpoints: dict[UserId, list[WebhookEndpoint]] = {}
    for event in events:
        if not uow.events.wants_webhooks(event.user_id):
            continue
        if event.user_id not in endpoints:
            endpoints[event.user_id] = uow.webhooks.endpoints_of(event.user_id)
        targets: list[tuple[str, WebhookEndpointId | None]] = [
            (endpoint.url, endpoint.id)
            for endpoint in endpoints[event.user_id]
            if endpoint.subscribes_to(event.type)
        ]
        if event.type in CALLBACK_EVENT_TYPES and (url := uow.webhooks.callback_of(event.task_id)):
            targets.append((url, None))
        deliveries += [
            WebhookDelivery.of_event(
                user_id=event.user_id,
                sequence=event.sequence,
                event_type=event.type,
                task_id=event.task_id,
                payload=event.data,
                url=url,
                endpoint_id=endpoint_id,
                at=event.occurred_at,
            )
            for url, endpoint_id in targets
        ]
    for delivery in deliveries:
        uow.webhooks.add_delivery(delivery)
    return deliveries


def attach_callbacks(
    uow: UnitOfWork,
    owner_id: UserId,
    callbacks: Sequence[tuple[UUID, str | None]],
    *,
    field: str,
) -> None:
    """Inside the submission's unit of work: the callback URL of each task (or workflow),
    by id, that has one. Its deliveries are signed with the owner's callback secret, so one
    must have been issued. Raises ValidationError naming `field`."""
    wanted = [(subject, url) for subject, url in callbacks if url is not None]
    if not wanted:
        return
    if uow.webhooks.callback_secret(owner_id) is None:
        raise ValidationError(
            "a callback_url needs a callback signing secret: issue one with "
            "POST /api/v1/webhooks/callback-secret first",
            field=field,
        )
    for subject, url in wanted:
        uow.webhooks.set_callback(subject, url)

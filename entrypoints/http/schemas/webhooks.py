"""Webhook request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.event import WEBHOOK_EVENT_TYPES
from domain.webhook import MAX_URL_LENGTH, DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from entrypoints.http.schemas.common import StrictRequest


class CreateWebhookRequest(StrictRequest):
    url: str = Field(
        min_length=1,
        max_length=MAX_URL_LENGTH,
        description="Where the events are POSTed: http or https; loopback, private and "
        "link-local addresses are refused unless allowed by the operator.",
        examples=["https://example.com/hooks/taskhub"],
    )
    events: list[str] = Field(
        min_length=1,
        description=f"Event types to receive: {', '.join(WEBHOOK_EVENT_TYPES)}.",
        examples=[["task.completed", "task.failed"]],
    )


class WebhookResponse(BaseModel):
    id: UUID
    user_id: UUID
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime
    failing_since: datetime | None = Field(
        description="Since when every attempt has failed; null while healthy."
    )
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="Why it was disabled, when it was.")

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> WebhookResponse:
        return cls(
            id=endpoint.id,
            user_id=endpoint.user_id,
            url=endpoint.url,
            events=list(endpoint.events),
            enabled=endpoint.enabled,
            created_at=endpoint.created_at,
            failing_since=endpoint.failing_since,
            disabled_at=endpoint.disabled_at,
            disabled_reason=endpoint.disabled_reason,
        )


class WebhookWithSecretResponse(WebhookResponse):
    secret: str = Field(
        description="The signing secret (`whsec_` and base64): shown this once; verify the "
        "`webhook-signature` header with it."
    )

    @classmethod
    def with_secret(cls, endpoint: WebhookEndpoint) -> WebhookWithSecretResponse:
        return cls(**WebhookResponse.of(endpoint).model_dump(), secret=endpoint.secret)


class WebhookList(BaseModel):
    items: list[WebhookResponse]


class CallbackSecretResponse(BaseModel):
    secret: str = Field(
        description="The secret deliveries to your `callback_url`s are signed with from now "
        "on: shown this once."
    )


class AttemptResponse(BaseModel):
    at: datetime
    status_code: int | None = Field(description="The receiver's answer; null when none came.")
    response: str | None = Field(description="The first KB of the answer's body.")
    error: str | None = Field(description="Why the receiver was not reached.")

    @classmethod
    def of(cls, attempt: DeliveryAttempt) -> AttemptResponse:
        return cls(
            at=attempt.at,
            status_code=attempt.status_code,
            response=attempt.response,
            error=attempt.error,
        )


class DeliveryResponse(BaseModel):
    id: UUID
    webhook_id: str = Field(description="The `webhook-id` header: the event's id in the stream.")
    event_type: str
    task_id: UUID
    status: str = Field(description="pending, succeeded or failed (every attempt failed).")
    next_attempt_at: datetime | None
    attempts: list[AttemptResponse]
    created_at: datetime
    payload: dict[str, Any] = Field(description="The event's `data`.")

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryResponse:
        return cls(
            id=delivery.id,
            webhook_id=delivery.message_id,
            event_type=delivery.event_type,
            task_id=delivery.task_id,
            status=delivery.status.value,
            next_attempt_at=delivery.next_attempt_at,
            attempts=[AttemptResponse.of(a) for a in delivery.attempts],
            created_at=delivery.created_at,
            payload=delivery.payload,
        )


class DeliveryList(BaseModel):
    items: list[DeliveryResponse]

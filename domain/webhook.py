"""Webhooks: endpoints a user registers for event types, and the deliveries of task events
to them (or to a submission's callback URL), signed as the Standard Webhooks specification
says and retried on a schedule."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NewType
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from domain.errors import ConflictError, ValidationError
from domain.event import WEBHOOK_EVENT_TYPES
from domain.task import TaskId
from domain.user import UserId

WebhookEndpointId = NewType("WebhookEndpointId", UUID)
WebhookDeliveryId = NewType("WebhookDeliveryId", UUID)

SECRET_PREFIX = "whsec_"  # noqa: S105  # a prefix, not a secret
MAX_URL_LENGTH = 2048
MAX_STORED_RESPONSE = 1024  # bytes of a receiver's answer kept in the delivery log
# A callback URL hears of its task's (or workflow's) end only.
CALLBACK_EVENT_TYPES: tuple[str, ...] = (
    "task.completed",
    "task.failed",
    "task.cancelled",
    "workflow.completed",
    "workflow.failed",
    "workflow.cancelled",
)


def webhook_url(value: str, *, field: str = "url") -> str:
    """An absolute http(s) URL with a host, without credentials. Where it points is checked
    at every attempt (the address guard), not here: a name can resolve elsewhere later."""
    parts = urlsplit(value)
    if (
        len(value) > MAX_URL_LENGTH
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or any(c <= " " or c == "\x7f" for c in value)
    ):
        raise ValidationError(
            f"must be an absolute http or https URL without credentials, at most "
            f"{MAX_URL_LENGTH} characters",
            field=field,
        )
    return value


def event_types(values: list[str]) -> tuple[str, ...]:
    """The event types an endpoint subscribes to: at least one, each a known type."""
    unknown = sorted(set(values) - set(WEBHOOK_EVENT_TYPES))
    if not values or unknown:
        raise ValidationError(
            f"events must be a non-empty list of {', '.join(WEBHOOK_EVENT_TYPES)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            field="events",
        )
    return tuple(dict.fromkeys(values))


def new_secret() -> str:
    """A signing secret as Standard Webhooks spells it: `whsec_` and 32 random bytes, base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256, keyed with the
    secret's decoded bytes, of `<id>.<timestamp>.<body>`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """Where a user's events of some types go. Disabled (with the reason kept for its owner)
    once its deliveries have failed without a success in between for `disable_after`."""

    id: WebhookEndpointId
    user_id: UserId
    url: str
    events: tuple[str, ...]
    secret: str
    created_at: datetime
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    @classmethod
    def register(
        cls, user_id: UserId, url: str, events: list[str], *, at: datetime
    ) -> WebhookEndpoint:
        return cls(
            id=WebhookEndpointId(uuid4()),
            user_id=user_id,
            url=webhook_url(url),
            events=event_types(events),
            secret=new_secret(),
            created_at=at,
        )

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def subscribes_to(self, event_type: str) -> bool:
        return self.enabled and event_type in self.events

    def with_new_secret(self) -> WebhookEndpoint:
        return replace(self, secret=new_secret())

    def delivered(self) -> WebhookEndpoint:
        """A delivery succeeded: the endpoint is healthy again."""
        return replace(self, failing_since=None)

    def failed(self, *, at: datetime, disable_after: timedelta, why: str) -> WebhookEndpoint:
        """A delivery attempt failed; after failing for `disable_after`, disabled."""
        since = self.failing_since or at
        if self.enabled and at - since >= disable_after:
            hours = disable_after.total_seconds() / 3600
            reason = f"every delivery failed for {hours:g} hours; the last: {why}"
            return replace(self, failing_since=since, disabled_at=at, disabled_reason=reason)
        return replace(self, failing_since=since)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"  # an attempt is due at next_attempt_at
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every attempt of the schedule failed, or its endpoint is disabled


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One try: the receiver's status code (None when none answered) and what it said, or
    why it could not be reached."""

    at: datetime
    status_code: int | None
    response: str | None = None
    error: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "status_code": self.status_code,
            "response": self.response,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryAttempt:
        return cls(
            at=datetime.fromisoformat(data["at"]),
            status_code=data["status_code"],
            response=data["response"],
            error=data["error"],
        )


def stored_response(body: bytes) -> str:
    """The first KB of a receiver's answer, as text."""
    return body[:MAX_STORED_RESPONSE].decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One event for one target (an endpoint, or the task's callback URL), written in the
    transaction of the event itself: the outbox of webhooks. Its message id is the event's
    number in its owner's sequence, the id a stream shows for the same event.

    At most one attempt is in flight: a sender claims it until `claimed_until` before it
    sends, and another claim waits for that to pass (a sender that died)."""

    id: WebhookDeliveryId
    user_id: UserId
    sequence: int
    event_type: str
    task_id: TaskId
    payload: dict[str, Any]
    url: str
    endpoint_id: WebhookEndpointId | None  # None: the task's callback URL
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    next_attempt_at: datetime | None = None
    claimed_until: datetime | None = None
    attempts: tuple[DeliveryAttempt, ...] = ()
    round_start: int = 0  # attempts before the current round (a redelivery starts one)

    @classmethod
    def of_event(
        cls,
        *,
        user_id: UserId,
        sequence: int,
        event_type: str,
        task_id: TaskId,
        payload: dict[str, Any],
        url: str,
        endpoint_id: WebhookEndpointId | None,
        at: datetime,
    ) -> WebhookDelivery:
        return cls(
            id=WebhookDeliveryId(uuid4()),
            user_id=user_id,
            sequence=sequence,
            event_type=event_type,
            task_id=task_id,
            payload=payload,
            url=url,
            endpoint_id=endpoint_id,
            created_at=at,
            next_attempt_at=at,
        )

    @property
    def message_id(self) -> str:
        return str(self.sequence)

    def due(self, at: datetime) -> bool:
        return (
            self.status is DeliveryStatus.PENDING
            and self.next_attempt_at is not None
            and self.next_attempt_at <= at
            and (self.claimed_until is None or self.claimed_until <= at)
        )

    def claim(self, *, at: datetime, hold: timedelta) -> WebhookDelivery:
        """Take the next attempt: until `at + hold`, nobody else sends it."""
        if not self.due(at):
            raise ConflictError(
                "the delivery is not due, or an attempt of it is in flight", delivery=str(self.id)
            )
        return replace(self, claimed_until=at + hold)

    def attempted(
        self, attempt: DeliveryAttempt, *, schedule: tuple[float, ...]
    ) -> WebhookDelivery:
        """Record an attempt; retry per `schedule` (the delay before each attempt of a round,
        the first normally 0) until it runs out."""
        attempts = (*self.attempts, attempt)
        if attempt.succeeded:
            return replace(
                self,
                attempts=attempts,
                status=DeliveryStatus.SUCCEEDED,
                next_attempt_at=None,
                claimed_until=None,
            )
        made = len(attempts) - self.round_start
        if made >= len(schedule):
            return replace(
                self,
                attempts=attempts,
                status=DeliveryStatus.FAILED,
                next_attempt_at=None,
                claimed_until=None,
            )
        return replace(
            self,
            attempts=attempts,
            next_attempt_at=attempt.at + timedelta(seconds=schedule[made]),
            claimed_until=None,
        )

    def given_up(self) -> WebhookDelivery:
        """Its endpoint was disabled: no more attempts."""
        return replace(self, status=DeliveryStatus.FAILED, next_attempt_at=None, claimed_until=None)

    def redelivered(self, *, at: datetime) -> WebhookDelivery:
        """Its owner asks for it again: a new round of attempts, the first at once. Refused
        while an attempt is in flight (one at a time per endpoint and event)."""
        if self.claimed_until is not None and self.claimed_until > at:
            raise ConflictError(
                "an attempt of this delivery is in flight; ask again once it has ended",
                delivery=str(self.id),
            )
        return replace(
            self,
            status=DeliveryStatus.PENDING,
            next_attempt_at=at,
            claimed_until=None,
            round_start=len(self.attempts),
        )


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """What goes over the wire: the body and the Standard Webhooks headers."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, delivery: WebhookDelivery, secret: str, *, at: datetime) -> WebhookMessage:
        timestamp = int(at.timestamp())
        body = json.dumps(
            {
                "type": delivery.event_type,
                "timestamp": delivery.created_at.isoformat(),
                "data": delivery.payload,
            },
            separators=(",", ":"),
        ).encode()
        return cls(
            body=body,
            headers={
                "content-type": "application/json",
                "webhook-id": delivery.message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature(secret, delivery.message_id, timestamp, body),
            },
        )

"""Idempotency keys: a client's name for one submission, so that a retried request returns
what the first one made instead of making it again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.errors import ValidationError
from domain.task import TaskId
from domain.user import UserId

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def idempotency_key(value: str) -> str:
    """The key as given, if it is 1 to 255 printable ASCII characters (the IETF draft
    suggests a UUID; anything unambiguous to log and compare will do)."""
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not all(" " <= c <= "~" for c in value):
        raise ValidationError(
            f"an idempotency key is 1 to {MAX_KEY_LENGTH} printable ASCII characters",
            field=HEADER,
        )
    return value


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    """What one key stands for: the request it came with (a fingerprint of its method,
    path and body) and the tasks that request created, or the one other resource (a
    workflow, a schedule) it created, by id."""

    user_id: UserId
    key: str
    fingerprint: str
    task_ids: tuple[TaskId, ...]
    created_at: datetime
    resource_id: str | None = None

    def ensure_same_request(self, fingerprint: str) -> None:
        """A key names one request: the same key with another body is the client's mistake."""
        if fingerprint != self.fingerprint:
            raise ValidationError(
                "this idempotency key was used with a different request; use a new key",
                field=HEADER,
            )

"""Idempotent submissions: a key a client sends with a submission, so a retry of the same
request returns the tasks the first one created instead of creating them again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.errors import IdempotencyKeyInUseError
from application.ports import UnitOfWork
from domain.errors import AlreadyExistsError
from domain.idempotency import IdempotentRequest, idempotency_key
from domain.task import Task
from domain.user import UserId


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """The key a client sent, and the fingerprint of the request it came with."""

    key: str
    fingerprint: str

    def __post_init__(self) -> None:
        idempotency_key(self.key)


def replay(uow: UnitOfWork, owner_id: UserId, claim: IdempotencyClaim) -> list[Task] | None:
    """Inside the submission's unit of work, before anything is read: the tasks the key's
    first request created, or None when the key is new. See `earlier_request`."""
    earlier = earlier_request(uow, owner_id, claim)
    if earlier is None:
        return None
    return [uow.tasks.get(task_id) for task_id in earlier.task_ids]


def earlier_request(
    uow: UnitOfWork, owner_id: UserId, claim: IdempotencyClaim
) -> IdempotentRequest | None:
    """Inside the submission's unit of work, before anything is read: what the key's first
    request created, or None when the key is new. Holds the key (a concurrent request with
    it is refused with IdempotencyKeyInUseError, 409) and the owner until the commit.

    Raises ValidationError naming the header when the key came with another request.
    """
    if not uow.idempotency_keys.hold(owner_id, claim.key):
        raise IdempotencyKeyInUseError(
            "a request with this idempotency key is still being processed; retry shortly",
            field="Idempotency-Key",
        )
    uow.users.lock(owner_id)  # after it, what we read is no older than the last commit
    earlier = uow.idempotency_keys.get(owner_id, claim.key)
    if earlier is not None:
        earlier.ensure_same_request(claim.fingerprint)
    return earlier


def remember(
    uow: UnitOfWork,
    owner_id: UserId,
    claim: IdempotencyClaim,
    tasks: Sequence[Task],
    *,
    at: datetime,
    resource_id: str | None = None,
) -> None:
    """Stage the key with the tasks its request created (and the workflow or schedule, by
    id), in the same transaction."""
    request = IdempotentRequest(
        user_id=owner_id,
        key=claim.key,
        fingerprint=claim.fingerprint,
        task_ids=tuple(task.id for task in tasks),
        created_at=at,
        resource_id=resource_id,
    )
    try:
        uow.idempotency_keys.add(request)
    except AlreadyExistsError:  # a concurrent first request the database did not hold back
        raise IdempotencyKeyInUseError(
            "a request with this idempotency key is still being processed; retry shortly",
            field="Idempotency-Key",
        ) from None

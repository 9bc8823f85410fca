"""The per-user cap on unfinished tasks, shared by every use case that creates tasks."""

from __future__ import annotations

from application.ports import UnitOfWork
from domain.errors import QuotaExceededError
from domain.user import UserId


def ensure_within_active_task_quota(
    uow: UnitOfWork, owner_id: UserId, limit: int, *, adding: int = 1
) -> None:
    """Raise QuotaExceededError when `adding` more tasks would take the owner past `limit`
    pending or running tasks. Holds the owner (a row lock) until the transaction ends, so
    submissions of one owner racing each other count one after the other, each seeing the
    tasks the one before it added: call it in the transaction that adds the tasks."""
    uow.users.lock(owner_id)
    # Counted no further than the first task beyond what the limit leaves room for: the
    # check reads at most `limit` rows, however many an owner has.
    room = limit - adding
    up_to = max(room, 0) + 1
    active = uow.tasks.count_active(owner_id, up_to=up_to)
    if active > room:
        more = "" if adding == 1 else f" and would add {adding}"
        have = f"at least {active}" if active == up_to else str(active)
        raise QuotaExceededError(
            f"you have {have} pending or running tasks{more}; the limit is {limit}",
            quota="active_tasks",
            limit=limit,
        )

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
    active = uow.tasks.count_active(owner_id)
    if active + adding > limit:
        more = "" if adding == 1 else f" and would add {adding}"
        raise QuotaExceededError(
            f"you have {active} pending or running tasks{more}; the limit is {limit}",
            quota="active_tasks",
            limit=limit,
        )

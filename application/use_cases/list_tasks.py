"""Listing tasks, newest first, one keyset page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports import TaskQuery, UnitOfWork
from domain.errors import ValidationError
from domain.model import ModelId
from domain.policy import visible_owner
from domain.task import Priority, Task, TaskStatus
from domain.user import User, UserId


@dataclass(frozen=True, slots=True)
class ListTasks:
    """Rules: users see only their own tasks, admins everyone's or one user's (`user_id`);
    page size is capped. Filters combine: status, task type, priority, model, a substring of
    the name (any case), and a creation window, both ends exclusive and timezone-aware.

    Raises ValidationError (limit, cursor, name, created_after, created_before),
    PermissionDeniedError (inactive actor; user_id from a non-admin).
    """

    uow: UnitOfWork
    max_page_size: int
    default_page_size: int = 50

    def execute(
        self,
        actor: User,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: TaskStatus | None = None,
        task_type: str | None = None,
        priority: Priority | None = None,
        model_id: ModelId | None = None,
        name: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        user_id: UserId | None = None,
    ) -> Page[Task]:
        limit = check_limit(limit, cap=self.max_page_size, default=self.default_page_size)
        _check_window(created_after, created_before)
        if name is not None and not name:
            raise ValidationError("name must not be empty", field="name")
        query = TaskQuery(
            owner_id=visible_owner(actor, asked_for=user_id),
            status=status,
            task_type=task_type,
            priority=priority,
            model_id=model_id,
            name_contains=name,
            created_after=created_after,
            created_before=created_before,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
        with self.uow:
            rows = self.uow.tasks.find(query)
        return page_of(rows, limit=limit)


def _check_window(after: datetime | None, before: datetime | None) -> None:
    for field, moment in (("created_after", after), ("created_before", before)):
        if moment is not None and moment.tzinfo is None:
            # Stored times are UTC; guessing the zone of a naive one would shift the window.
            raise ValidationError(
                f"{field} needs a time zone, e.g. 2026-01-01T00:00:00Z", field=field
            )
    if after is not None and before is not None and after >= before:
        raise ValidationError(
            "created_before must be later than created_after", field="created_before"
        )

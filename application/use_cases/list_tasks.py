"""Listing tasks, newest first, one keyset page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports import TaskQuery, UnitOfWork
from domain.model import ModelId
from domain.policy import visible_owner
from domain.task import Priority, Task, TaskStatus
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListTasks:
    """Rules: users see only their own tasks, admins everyone's; page size is capped.

    Raises ValidationError (limit, cursor), PermissionDeniedError (inactive actor).
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
    ) -> Page[Task]:
        limit = check_limit(limit, cap=self.max_page_size, default=self.default_page_size)
        query = TaskQuery(
            owner_id=visible_owner(actor),
            status=status,
            task_type=task_type,
            priority=priority,
            model_id=model_id,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
        with self.uow:
            rows = self.uow.tasks.find(query)
        return page_of(rows, limit=limit)

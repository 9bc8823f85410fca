"""Reading a task's log lines, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_task
from application.ports import UnitOfWork
from domain.attempt import TaskLogLine
from domain.errors import ValidationError
from domain.policy import Action
from domain.task import Task, TaskId
from domain.user import User


@dataclass(frozen=True, slots=True)
class TaskLogPage:
    task: Task
    lines: list[TaskLogLine]
    next_cursor: str | None  # the seq of the last line; None when the page was not full


@dataclass(frozen=True, slots=True)
class ListTaskLogs:
    """Rules: whoever may read the task may read its log, oldest line first; a page ends
    where the task's log ends for now, so a follower passes the last cursor again later.
    Raises NotFoundError, ValidationError (cursor)."""

    uow: UnitOfWork
    default_limit: int = 200
    max_limit: int = 1000

    def execute(
        self, actor: User, task_id: TaskId, *, cursor: str | None = None, limit: int | None = None
    ) -> TaskLogPage:
        after = _parse(cursor)
        size = min(limit or self.default_limit, self.max_limit)
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.READ)
            lines = self.uow.task_logs.page(task_id, after=after, limit=size)
        last = lines[-1].seq if lines else after
        return TaskLogPage(task, lines, str(last) if last is not None else None)


def _parse(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValidationError("cursor is not one this listing returned", field="cursor")
    return int(cursor)

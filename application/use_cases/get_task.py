"""Reading one task."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_task
from application.ports import UnitOfWork
from application.workflows import waiting_for
from domain.policy import Action
from domain.task import Task, TaskId, TaskStatus
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetTask:
    """Raises NotFoundError, for a missing task and for someone else's alike."""

    uow: UnitOfWork

    def execute(self, actor: User, task_id: TaskId) -> Task:
        with self.uow:
            return load_task(self.uow, actor, task_id, Action.READ)

    def with_waits(self, actor: User, task_id: TaskId) -> tuple[Task, list[str] | None]:
        """The task, and while it waits, the keys of the dependencies not yet completed."""
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.READ)
            waits = waiting_for(self.uow, task) if task.workflow_id is not None else None
            return task, waits if task.status is TaskStatus.WAITING else None

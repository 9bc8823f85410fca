"""Reading one task."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_task
from application.ports import UnitOfWork
from domain.policy import Action
from domain.task import Task, TaskId
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetTask:
    """Raises NotFoundError, for a missing task and for someone else's alike."""

    uow: UnitOfWork

    def execute(self, actor: User, task_id: TaskId) -> Task:
        with self.uow:
            return load_task(self.uow, actor, task_id, Action.READ)

"""Renaming or re-prioritising a task that has not started yet."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_task
from application.ports import UnitOfWork
from domain.policy import Action
from domain.task import Priority, Task, TaskId
from domain.user import User


@dataclass(frozen=True, slots=True)
class UpdateTask:
    """Rules: only while pending. A new priority applies to the next delivery (the relay's or a
    retry's); a message already on a queue stays there.

    Raises NotFoundError, ConflictError (not pending, or lost a race), ValidationError.
    """

    uow: UnitOfWork

    def execute(
        self,
        actor: User,
        task_id: TaskId,
        *,
        name: str | None = None,
        priority: Priority | None = None,
    ) -> Task:
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.CHANGE)
            if name is not None:
                task.rename(name)
            if priority is not None:
                task.change_priority(priority)
            self.uow.tasks.update(task)
            self.uow.commit()
        return task

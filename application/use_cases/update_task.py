"""Renaming, re-prioritising or delaying a task that has not started yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.access import load_task
from application.ports import Clock, UnitOfWork
from domain.policy import Action
from domain.task import Priority, Task, TaskId
from domain.user import User


@dataclass(frozen=True, slots=True)
class UpdateTask:
    """Rules: only while pending. A new priority applies to the next delivery (the relay's or a
    retry's); a message already on a queue stays there. `run_at` moves a delayed task's
    time while it still waits (not yet published; 409 after); a time already past runs it
    at the next release.

    Raises NotFoundError, ConflictError (not pending, or lost a race), ValidationError.
    """

    uow: UnitOfWork
    clock: Clock

    def execute(
        self,
        actor: User,
        task_id: TaskId,
        *,
        name: str | None = None,
        priority: Priority | None = None,
        run_at: datetime | None = None,
    ) -> Task:
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.CHANGE)
            if name is not None:
                task.rename(name)
            if priority is not None:
                task.change_priority(priority)
            if run_at is not None:
                task.move_run_at(run_at, at=self.clock.now())
            self.uow.tasks.update(task)
            self.uow.commit()
        return task

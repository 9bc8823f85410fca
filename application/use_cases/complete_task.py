"""A run finishing with its result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.ports import Clock, UnitOfWork
from domain.task import RunToken, Task, TaskId


@dataclass(frozen=True, slots=True)
class CompleteTask:
    """Rules: only the current run may complete the task; a cancelled task stays cancelled.

    Raises StaleRunError, NotFoundError, ConcurrencyConflictError.
    """

    uow: UnitOfWork
    clock: Clock

    def execute(self, task_id: TaskId, run_token: RunToken, result: Any) -> Task:
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.complete(run_token=run_token, result=result, at=self.clock.now())
            self.uow.tasks.update(task)
            self.uow.commit()
        return task

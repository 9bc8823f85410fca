"""A run finishing with its result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.ports import Clock, UnitOfWork
from application.use_cases.settle_model_task import settle_model_task
from domain.task import RunToken, Task, TaskId


@dataclass(frozen=True, slots=True)
class CompleteTask:
    """Rules: only the current run may complete the task; a cancelled task stays cancelled.

    Raises StaleRunError, NotFoundError, ConcurrencyConflictError.
    """

    uow: UnitOfWork
    clock: Clock

    def execute(
        self, task_id: TaskId, run_token: RunToken, result: Any, message: str | None = None
    ) -> Task:
        """`message`: the final progress message, or None to clear the last one."""
        now = self.clock.now()
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.complete(run_token=run_token, result=result, at=now, message=message)
            self.uow.tasks.update(task)
            settle_model_task(self.uow, task, at=now)
            self.uow.commit()
        return task

"""A run ending in an error that retrying will not fix."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.use_cases.settle_model_task import settle_model_task
from domain.task import RunToken, Task, TaskError, TaskId


@dataclass(frozen=True, slots=True)
class FailTask:
    """Raises StaleRunError, NotFoundError, ConcurrencyConflictError."""

    uow: UnitOfWork
    clock: Clock

    def execute(
        self, task_id: TaskId, run_token: RunToken, *, error_type: str, message: str
    ) -> Task:
        now = self.clock.now()
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.fail(run_token=run_token, error=TaskError(error_type, message), at=now)
            self.uow.tasks.update(task)
            settle_model_task(self.uow, task, at=now)
            self.uow.commit()
        return task

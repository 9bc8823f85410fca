"""A run ending in an error worth another attempt: back to pending, re-published with a delay."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.use_cases.dispatch import TaskPublisher
from application.use_cases.settle_model_task import settle_model_task
from domain.task import RunToken, Task, TaskError, TaskId, TaskStatus


@dataclass(frozen=True, slots=True)
class RetryTask:
    """Rules: a task retries while it has attempts left, then fails with the last error.
    The re-publish happens after the commit; if the broker is down the relay takes over.

    Raises StaleRunError, NotFoundError, ConcurrencyConflictError.
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    clock: Clock

    def execute(
        self,
        task_id: TaskId,
        run_token: RunToken,
        *,
        error_type: str,
        message: str,
        countdown: float | None = None,
    ) -> Task:
        now = self.clock.now()
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.retry(run_token=run_token, error=TaskError(error_type, message), at=now)
            self.uow.tasks.update(task)
            settle_model_task(self.uow, task, at=now)
            self.uow.commit()
        if task.status is TaskStatus.PENDING:
            self.publisher.publish([task], countdown=countdown)
        return task

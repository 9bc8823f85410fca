"""A run its worker stopped at the task type's hard time limit."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.publishing import TaskPublisher
from application.running.ending import run_ended
from application.workflows import holding_its_workflow
from domain.errors import NotFoundError
from domain.task import Task, TaskError, TaskId, TaskStatus

TIME_LIMIT_EXCEEDED = "TimeLimitExceeded"


@dataclass(frozen=True, slots=True)
class FailOverrunTask:
    """Rules: a run stopped at its hard time limit fails the task, saying so, without a
    retry (it would overrun again). The run cannot record that itself (its process is
    killed), so the worker that killed it does, knowing the task but not the run's token:
    the run is the task's current one. No other run can have claimed the task meanwhile,
    since a re-queue needs `stale_after` seconds of silence from a run that heart-beat until
    it was stopped. A task no longer running (it finished at the limit, was cancelled or
    deleted) is left as it is: returns None then, else the failed task.
    """

    uow: UnitOfWork
    clock: Clock
    # Publishes the held tasks a stopped run released; without one the relay does.
    publisher: TaskPublisher | None = None

    def execute(self, task_id: TaskId, *, limit_seconds: float) -> Task | None:
        now = self.clock.now()
        with self.uow:
            try:
                task = holding_its_workflow(self.uow, self.uow.tasks.get(task_id))
            except NotFoundError:
                return None
            if task.status is not TaskStatus.RUNNING:
                return None
            error = TaskError(
                TIME_LIMIT_EXCEEDED,
                f"ran past its time limit ({limit_seconds:g}s); its process was stopped",
            )
            # The update's compare-and-set refuses the write if the run ended meanwhile.
            task.stop_overrun(error=error, at=now)
            self.uow.tasks.update(task)
            released = run_ended(self.uow, task, at=now)
            self.uow.commit()
        if self.publisher is not None:
            self.publisher.publish(released)
        return task

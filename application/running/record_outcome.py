"""Storing how a run ended: completed with its result, failed, or back to pending to retry."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.publishing import TaskPublisher
from application.running.ending import run_ended
from application.running.outcomes import Completed, Execution, Failed, Retried, TaskRun
from application.workflows import load_task_holding_its_workflow
from domain.task import Task, TaskError, TaskStatus


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """Rules: only the current run may record its outcome, so a cancelled task stays
    cancelled and a run taken back writes nothing. A completion is at 100 percent with the
    final progress message (or none: an earlier stage's would be stale). A retry goes back
    to pending while attempts remain, else fails with the error, and is re-published after
    the commit (if the broker is down, the relay takes over). Every outcome is a run's end
    (`run_ended`), in the same transaction: a workflow's tasks released by it are published
    after the commit too.

    Returns the task as stored. Raises StaleRunError, NotFoundError, ConcurrencyConflictError.
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    clock: Clock

    def execute(self, run: TaskRun, outcome: Execution) -> Task:
        now = self.clock.now()
        with self.uow:
            task = load_task_holding_its_workflow(self.uow, run.task_id, run.workflow_id)
            if isinstance(outcome, Completed):
                task.complete(
                    run_token=run.run_token, result=outcome.result, at=now, message=outcome.message
                )
            elif isinstance(outcome, Failed):
                error = TaskError(outcome.error_type, outcome.message, outcome.traceback)
                task.fail(run_token=run.run_token, error=error, at=now)
            else:
                error = TaskError(outcome.error_type, outcome.message, outcome.traceback)
                task.retry(run_token=run.run_token, error=error, at=now)
            self.uow.tasks.update(task)
            released = run_ended(self.uow, task, at=now)
            self.uow.commit()
        if isinstance(outcome, Retried) and task.status is TaskStatus.PENDING:
            self.publisher.publish([task], countdown=outcome.countdown)
        self.publisher.publish(released)
        return task

"""Storing how a run ended: completed with its result, failed, or back to pending to retry."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.publishing import TaskPublisher
from application.running.ending import run_ended
from application.running.outcomes import Completed, Execution, Failed, Retried, TaskRun
from domain.task import RunCompletion, Task, TaskError, TaskStatus


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
            if run.workflow_id is not None:
                # Before the task's row: the lock order of ADR 18, as a workflow's cancel.
                self.uow.workflows.lock(run.workflow_id)
            if isinstance(outcome, Completed):
                # Every run's path: one statement, the task not read first.
                completion = RunCompletion(run.run_token, outcome.result, now, outcome.message)
                task = self.uow.tasks.complete_run(run.task_id, completion)
            else:
                task = self.uow.tasks.get(run.task_id)
                error = TaskError(outcome.error_type, outcome.message, outcome.traceback)
                if isinstance(outcome, Failed):
                    task.fail(run_token=run.run_token, error=error, at=now)
                else:
                    task.retry(run_token=run.run_token, error=error, at=now)
                self.uow.tasks.update(task)
            released = run_ended(self.uow, task, at=now)
            self.uow.commit()
        if isinstance(outcome, Retried) and task.status is TaskStatus.PENDING:
            self.publisher.publish([task], countdown=outcome.countdown)
        self.publisher.publish(released)
        return task

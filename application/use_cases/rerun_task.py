"""Re-running a failed or cancelled task as a new task."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_task
from application.ports import Clock, TaskTypeCatalog, UnitOfWork
from application.publishing import TaskPublisher
from application.quota import ensure_within_active_task_quota
from domain.errors import ConflictError
from domain.policy import Action, ensure_active
from domain.task import Task, TaskId
from domain.user import User


@dataclass(frozen=True, slots=True)
class RerunTask:
    """Rules: whoever may change a failed or cancelled task may re-run it: a new task of
    the same type, arguments, priority and owner, its `retry_of` naming the original, which
    stays as it was. A model's tasks are re-run through the model, whose state they move.
    The owner's quota holds as for a submission; the new task is published after the
    commit like any other.

    Raises NotFoundError, ConflictError (not failed or cancelled; a model's task),
    ValidationError (its task type is gone), QuotaExceededError.
    """

    uow: UnitOfWork
    catalog: TaskTypeCatalog
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int

    def execute(
        self,
        actor: User,
        task_id: TaskId,
        *,
        request_id: str | None = None,
        trace_id: str | None = None,
    ) -> Task:
        ensure_active(actor)
        with self.uow:
            original = load_task(self.uow, actor, task_id, Action.CHANGE)
            if self.catalog.get(original.task_type).internal:
                raise ConflictError(
                    "a model's task is re-run by requesting its validation or deployment again",
                    task_id=str(task_id),
                )
            task = original.rerun(at=self.clock.now(), request_id=request_id, trace_id=trace_id)
            ensure_within_active_task_quota(self.uow, task.user_id, self.max_active_tasks)
            self.uow.tasks.add(task)
            self.uow.commit()
        self.publisher.publish([task])
        return task

"""Resuming a failed or cancelled workflow: new attempts of what did not complete, keeping
the results of what did."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.publishing import TaskPublisher
from application.quota import ensure_within_active_task_quota
from application.workflows import WorkflowView, graph_of, load_workflow, view_of
from domain.policy import Action
from domain.task import Task, TaskStatus
from domain.user import User
from domain.workflow import WorkflowId


@dataclass(frozen=True, slots=True)
class RetryWorkflow:
    """Rules: only a failed or cancelled workflow is retried (409 otherwise). Its failed and
    cancelled tasks, and every task below them, are replaced by new tasks (new ids, same
    key, type, arguments and dependencies); completed tasks stay as they are, and their
    dependents read their results as before. The owner's quota must hold the new tasks. The
    new tasks whose dependencies all completed are published at once, the rest wait.

    Raises NotFoundError, InvalidTransitionError, QuotaExceededError.
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int

    def execute(self, actor: User, workflow_id: WorkflowId) -> WorkflowView:
        now = self.clock.now()
        with self.uow:
            load_workflow(self.uow, actor, workflow_id, Action.CHANGE)
            self.uow.workflows.lock(workflow_id)
            workflow = self.uow.workflows.get(workflow_id)
            workflow.resume()
            tasks = self.uow.tasks.of_workflow(workflow_id)
            broken = {
                t.workflow_key
                for t in tasks
                if t.status in (TaskStatus.FAILED, TaskStatus.CANCELLED)
            }
            redo = broken | graph_of(tasks).below(k for k in broken if k is not None)
            kept = {t.workflow_key for t in tasks if t.workflow_key not in redo}
            ensure_within_active_task_quota(
                self.uow, workflow.user_id, self.max_active_tasks, adding=len(redo)
            )
            fresh = []
            for old in tasks:
                if old.workflow_key not in redo:
                    continue
                self.uow.tasks.delete(old)
                task = Task.submit(
                    name=old.name,
                    task_type=old.task_type,
                    user_id=old.user_id,
                    at=now,
                    priority=old.priority,
                    args=old.args,
                    kwargs=old.kwargs,
                    max_attempts=old.max_attempts,
                    request_id=old.request_id,
                    workflow_id=workflow.id,
                    workflow_key=old.workflow_key,
                    depends_on=old.depends_on,
                )
                if met := sum(1 for key in task.depends_on if key in kept):
                    task.dependencies_met(met)
                fresh.append(task)
            self.uow.tasks.add_many(fresh)
            self.uow.workflows.update(workflow)
            view = view_of(self.uow, workflow)
            self.uow.commit()
        self.publisher.publish([t for t in fresh if t.status is TaskStatus.PENDING])
        return view

"""Cancelling a workflow: every task of it not yet finished is cancelled."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.cancellation import cancel_all_in_transaction
from application.conflicts import tried_afresh_on_conflict
from application.errors import DependencyUnavailableError
from application.ports import Clock, TaskDispatcher, UnitOfWork
from application.task_events import record_workflow_event
from application.workflows import WorkflowView, load_workflow, view_of
from domain.errors import ConcurrencyConflictError
from domain.policy import Action
from domain.task import TaskId, TaskStatus
from domain.user import User
from domain.workflow import WorkflowId

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CancelWorkflow:
    """Rules: a running workflow can be cancelled, a finished one cannot (409). The workflow
    is held first, so no task of it is released meanwhile; each unfinished task is cancelled
    as a task's cancel does (a running one stops), all in one transaction: a release racing
    the cancel either landed before it (and its task is cancelled too) or finds the workflow
    cancelled. A worker's claim in between is retried on the fresh state. Locks follow the
    order of docs/adr/0018: the workflow, its tasks' rows by id, concurrency keys.

    Raises NotFoundError, InvalidTransitionError (already finished).
    """

    uow: UnitOfWork
    dispatcher: TaskDispatcher
    clock: Clock

    def execute(self, actor: User, workflow_id: WorkflowId) -> WorkflowView:
        view, stopped = tried_afresh_on_conflict(
            lambda: self._cancel(actor, workflow_id), conflicts=(ConcurrencyConflictError,)
        )
        for task_id in stopped:
            try:
                self.dispatcher.revoke(task_id)
            except DependencyUnavailableError as exc:
                logger.warning("could not broadcast revoke of %s: %s", task_id, exc)
        return view

    def _cancel(self, actor: User, workflow_id: WorkflowId) -> tuple[WorkflowView, list[TaskId]]:
        now = self.clock.now()
        with self.uow:
            load_workflow(self.uow, actor, workflow_id, Action.CANCEL)
            self.uow.workflows.lock(workflow_id)
            workflow = self.uow.workflows.get(workflow_id)
            was = workflow.status
            workflow.cancel(at=now)
            self.uow.workflows.update(workflow)
            if workflow.status is not was:
                record_workflow_event(self.uow, workflow, at=now)
            unfinished = [t for t in self.uow.tasks.of_workflow(workflow_id) if not t.is_terminal]
            # A waiting task has neither a broker message nor a run to stop.
            stopped = [t.id for t in unfinished if t.status is not TaskStatus.WAITING]
            cancel_all_in_transaction(self.uow, unfinished, at=now)
            view = view_of(self.uow, workflow)
            self.uow.commit()
        return view, stopped

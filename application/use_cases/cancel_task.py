"""Cancelling a pending or running task."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.access import load_task
from application.cancellation import cancel_in_transaction
from application.errors import DependencyUnavailableError
from application.ports import Clock, TaskDispatcher, UnitOfWork
from domain.errors import ConcurrencyConflictError
from domain.policy import Action
from domain.task import Task, TaskId
from domain.user import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CancelTask:
    """Rules: pending and running tasks can be cancelled; terminal ones cannot. The stored
    status is the decision: a pending task's claim fails, a running task's next write fails,
    so a late completion never overwrites the cancellation. The revoke is only a hint.

    Raises NotFoundError, InvalidTransitionError (already finished).
    """

    uow: UnitOfWork
    dispatcher: TaskDispatcher
    clock: Clock

    def execute(self, actor: User, task_id: TaskId) -> Task:
        try:
            task = self._cancel(actor, task_id)
        except ConcurrencyConflictError:
            # A worker moved the task between our read and write: decide on the fresh state.
            task = self._cancel(actor, task_id)
        try:
            self.dispatcher.revoke(task.id)
        except DependencyUnavailableError as exc:
            logger.warning("could not broadcast revoke of %s: %s", task.id, exc)
        return task

    def _cancel(self, actor: User, task_id: TaskId) -> Task:
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.CANCEL)
            cancel_in_transaction(self.uow, task, at=self.clock.now())
            self.uow.commit()
        return task

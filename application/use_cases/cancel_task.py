"""Cancelling a pending or running task."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.access import load_task
from application.cancellation import cancel_in_transaction
from application.errors import DependencyUnavailableError
from application.ports import Clock, TaskDispatcher, UnitOfWork
from application.publishing import TaskPublisher
from application.workflows import holding_its_workflow
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
    # Publishes the held tasks the cancellation released; without one the relay does.
    publisher: TaskPublisher | None = None

    def execute(self, actor: User, task_id: TaskId) -> Task:
        try:
            task, released = self._cancel(actor, task_id)
        except ConcurrencyConflictError:
            # A worker moved the task between our read and write: decide on the fresh state.
            task, released = self._cancel(actor, task_id)
        if self.publisher is not None:
            self.publisher.publish(released)
        try:
            self.dispatcher.revoke(task.id)
        except DependencyUnavailableError as exc:
            logger.warning("could not broadcast revoke of %s: %s", task.id, exc)
        return task

    def _cancel(self, actor: User, task_id: TaskId) -> tuple[Task, list[Task]]:
        with self.uow:
            task = holding_its_workflow(
                self.uow, load_task(self.uow, actor, task_id, Action.CANCEL)
            )
            released = cancel_in_transaction(self.uow, task, at=self.clock.now())
            self.uow.commit()
        return task, released

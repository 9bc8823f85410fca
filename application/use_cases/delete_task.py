"""Deleting a task; an unfinished one is cancelled first."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from application.access import load_task
from application.cancellation import cancel_in_transaction
from application.errors import DependencyUnavailableError
from application.ports import Clock, TaskDispatcher, UnitOfWork
from application.publishing import TaskPublisher
from domain.errors import ConflictError
from domain.policy import Action
from domain.task import Task, TaskId
from domain.user import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeleteTask:
    """Rules: deleting a pending or running task cancels it in the same transaction, so no
    worker starts it or writes to it again (its next write finds no row), then removes it.

    A workflow's task is deleted with its workflow, never alone (ConflictError).

    Raises NotFoundError, ConflictError, ConcurrencyConflictError (a worker wrote in
    between; try again).
    """

    uow: UnitOfWork
    dispatcher: TaskDispatcher
    clock: Clock
    # Publishes the held tasks the deletion released; without one the relay does.
    publisher: TaskPublisher | None = None

    def execute(self, actor: User, task_id: TaskId) -> None:
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.DELETE)
            if task.workflow_id is not None:
                # Its dependents would wait for it forever; a workflow goes as a whole.
                raise ConflictError(
                    f"task belongs to workflow {task.workflow_id}; delete the workflow",
                    task_id=str(task_id),
                    workflow_id=str(task.workflow_id),
                )
            was_active = not task.is_terminal
            released: list[Task] = []
            if was_active:
                released = cancel_in_transaction(self.uow, task, at=self.clock.now())
            self.uow.tasks.delete(task)
            self.uow.commit()
        if self.publisher is not None:
            self.publisher.publish(released)
        if was_active:
            try:
                self.dispatcher.revoke(task.id)
            except DependencyUnavailableError as exc:
                logger.warning("could not broadcast revoke of %s: %s", task.id, exc)

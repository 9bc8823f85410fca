"""Handing committed tasks to the broker: the publishing half of the task table's outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from application.errors import DependencyUnavailableError
from application.ports import DispatchRecorder, TaskDispatcher, UnitOfWork
from domain.task import Task, TaskId

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskPublisher:
    """Publishes tasks whose rows are already committed, then records that they were.

    A broker failure is not the caller's failure: the rows stay undispatched and the relay
    publishes them later. Publishing before the commit could let a worker receive an id
    whose row it cannot see yet.
    """

    dispatcher: TaskDispatcher
    recorder: DispatchRecorder

    def publish(self, tasks: Sequence[Task], *, countdown: float | None = None) -> bool:
        if not tasks:
            return True
        try:
            self.dispatcher.enqueue(tasks, countdown=countdown)
        except DependencyUnavailableError as exc:
            logger.warning(
                "broker unavailable, %d task(s) left for the relay: %s", len(tasks), exc.detail
            )
            return False
        for task in tasks:
            task.mark_dispatched()
        self.recorder.record([task.id for task in tasks])
        return True


@dataclass(frozen=True, slots=True)
class RecordDispatchedNow:
    """A DispatchRecorder that writes the flags at once, in a transaction of their own."""

    uow: UnitOfWork

    def record(self, task_ids: Sequence[TaskId]) -> None:
        try:
            with self.uow:
                self.uow.tasks.mark_dispatched(task_ids)
                self.uow.commit()
        except DependencyUnavailableError as exc:
            # The message is out; failing now would make the client submit again. The relay
            # may publish a second copy, which the worker's claim turns into a no-op.
            logger.warning("published but could not record it: %s", exc.detail)

"""Handing committed tasks to the broker: the publishing half of the task table's outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.errors import DependencyUnavailableError
from application.ports import Clock, DispatchRecorder, TaskDispatcher, UnitOfWork
from domain.task import Task, TaskId

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskPublisher:
    """Publishes tasks whose rows are already committed, then records that they were.

    A broker failure is not the caller's failure: the rows stay undispatched and the relay
    publishes them later. Publishing before the commit could let a worker receive an id
    whose row it cannot see yet. Each task is recorded as due when a worker may take its
    message: now, or after the `countdown` (RepublishOverdueTasks counts from then).
    A task held back (flow control), or delayed and not yet due, is passed by: it is
    published when released, or when due.
    """

    dispatcher: TaskDispatcher
    recorder: DispatchRecorder
    clock: Clock

    def publish(self, tasks: Sequence[Task], *, countdown: float | None = None) -> bool:
        # Held back for a slot, or delayed and not due: published when released, when due.
        now = self.clock.now()
        tasks = [task for task in tasks if task.held is None and not task.is_waiting(now)]
        if not tasks:
            return True
        try:
            self.dispatcher.enqueue(tasks, countdown=countdown)
        except DependencyUnavailableError as exc:
            logger.warning("broker unavailable, %d task(s) left for the relay: %s", len(tasks), exc)
            return False
        due_at = self.clock.now() + timedelta(seconds=countdown or 0)
        for task in tasks:
            task.mark_dispatched(due_at=due_at)
        self.recorder.record([task.id for task in tasks], due_at=due_at)
        return True


@dataclass(frozen=True, slots=True)
class RecordDispatchedNow(DispatchRecorder):
    """A DispatchRecorder that writes the flags at once, in a transaction of their own."""

    uow: UnitOfWork

    def record(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None:
        try:
            with self.uow:
                self.uow.tasks.mark_dispatched(task_ids, due_at=due_at)
                self.uow.commit()
        except DependencyUnavailableError as exc:
            # The message is out; failing now would make the client submit again. The relay
            # may publish a second copy, which the worker's claim turns into a no-op.
            logger.warning("published but could not record it: %s", exc)

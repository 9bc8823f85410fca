"""A running task reporting how far it has got."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.task_events import record_task_event
from domain.event import EventKind
from domain.task import RunToken, TaskId


@dataclass(frozen=True, slots=True)
class ReportProgress:
    """Rules: only the current run may report; progress stays in 0..100 and never goes back.
    A StaleRunError tells the worker its run is over (cancelled, re-queued): stop working.

    Raises StaleRunError, ValidationError, NotFoundError (deleted).
    """

    uow: UnitOfWork
    clock: Clock

    def execute(
        self, task_id: TaskId, run_token: RunToken, percent: int, message: str | None = None
    ) -> None:
        with self.uow:
            task = self.uow.tasks.get(task_id)
            now = self.clock.now()
            task.report_progress(run_token=run_token, percent=percent, message=message, at=now)
            self.uow.tasks.update(task)
            record_task_event(self.uow, task, EventKind.PROGRESS, at=now)
            self.uow.commit()

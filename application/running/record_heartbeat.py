"""A running task's worker saying it is still alive."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from domain.task import RunToken, TaskId


@dataclass(frozen=True, slots=True)
class RecordHeartbeat:
    """Rules: only the current run beats. A StaleRunError or NotFoundError tells the worker
    its run is over (cancelled, deleted, or re-queued by the reaper): stop working.
    """

    uow: UnitOfWork
    clock: Clock

    def execute(self, task_id: TaskId, run_token: RunToken) -> None:
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.heartbeat(run_token=run_token, at=self.clock.now())
            self.uow.tasks.update(task)
            self.uow.commit()

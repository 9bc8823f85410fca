"""Asking, without writing, whether a run is still the task's current one."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.task import RunToken, TaskId


@dataclass(frozen=True, slots=True)
class CheckRun:
    """Raises StaleRunError (cancelled, re-queued, finished) or NotFoundError (deleted)."""

    uow: UnitOfWork

    def execute(self, task_id: TaskId, run_token: RunToken) -> None:
        with self.uow:
            self.uow.tasks.get(task_id).ensure_current_run(run_token)

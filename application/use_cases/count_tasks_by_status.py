"""How many tasks are in each status right now: what the tasks-by-status gauge shows."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.task import TaskStatus


@dataclass(frozen=True, slots=True)
class CountTasksByStatus:
    """Every status is reported, zero when no task is in it, so a gauge's series never
    vanishes just because the last task left that status."""

    uow: UnitOfWork

    def execute(self) -> dict[TaskStatus, int]:
        with self.uow:
            counts = self.uow.tasks.count_by_status()
        return {status: counts.get(status, 0) for status in TaskStatus}

"""Deleting finished tasks once they are past the retention period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWork


@dataclass(frozen=True, slots=True)
class PurgeExpiredTasks:
    """Rules: only completed, failed and cancelled tasks, `retention` after they finished;
    at most `batch_size` per run so one purge never holds a long transaction. Returns how
    many were deleted."""

    uow: UnitOfWork
    clock: Clock
    retention: timedelta
    batch_size: int

    def execute(self) -> int:
        with self.uow:
            deleted = self.uow.tasks.delete_finished_before(
                self.clock.now() - self.retention, limit=self.batch_size
            )
            self.uow.commit()
        return deleted

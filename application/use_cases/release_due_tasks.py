"""Publishing delayed tasks whose run_at has come."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.publishing import TaskPublisher


@dataclass(frozen=True, slots=True)
class ReleaseDueTasks:
    """Rules: a delayed task is published once its run_at has come, earliest first, at most
    `batch_size` per run, through the publisher (due from then on, for the overdue sweep).
    Run by the scheduler loop, a fraction of a second apart, under the scheduler's lease.
    A publish that fails leaves the tasks undispatched: the next run, or the relay once
    `run_at` is older than its grace, tries again.

    Returns how many were published; raises DependencyUnavailableError when the database
    cannot be read.
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    clock: Clock
    batch_size: int

    def execute(self) -> int:
        with self.uow:
            tasks = self.uow.tasks.list_due_delayed(now=self.clock.now(), limit=self.batch_size)
        return len(tasks) if tasks and self.publisher.publish(tasks) else 0

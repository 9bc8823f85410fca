"""The outbox relay: publishes pending tasks whose first publish failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, UnitOfWork
from application.use_cases.dispatch import TaskPublisher


@dataclass(frozen=True, slots=True)
class RelayUndispatchedTasks:
    """Rules: only tasks older than `grace` are picked up, so a submission that is publishing
    right now is not published twice; at most `batch_size` per run, oldest first.
    Returns how many were published (0 while the broker is still down).
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    clock: Clock
    grace: timedelta
    batch_size: int

    def execute(self) -> int:
        with self.uow:
            tasks = self.uow.tasks.list_undispatched(
                created_before=self.clock.now() - self.grace, limit=self.batch_size
            )
        return len(tasks) if self.publisher.publish(tasks) else 0

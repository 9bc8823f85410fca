"""How long each queue's oldest pending task has waited, and the relay's backlog: what the
waiting-time and undispatched gauges (and the alert rules on them) show."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from domain.task import Priority


@dataclass(frozen=True, slots=True)
class WaitingTasks:
    oldest_seconds: dict[str, float]
    undispatched: int


@dataclass(frozen=True, slots=True)
class MeasureWaitingTasks:
    """Every queue is reported, 0 when nothing waits in it (or only tasks due later), so an
    alert on the age sees a series for each queue at all times. The age counts from when a
    task became due, so a retry waiting out its backoff is not "waiting" before then."""

    uow: UnitOfWork
    clock: Clock

    def execute(self) -> WaitingTasks:
        with self.uow:
            oldest = self.uow.tasks.oldest_waiting_by_queue()
            undispatched = self.uow.tasks.count_undispatched()
        now = self.clock.now()
        seconds = {
            queue: max(0.0, (now - oldest[queue]).total_seconds()) if queue in oldest else 0.0
            for queue in sorted({priority.queue for priority in Priority})
        }
        return WaitingTasks(oldest_seconds=seconds, undispatched=undispatched)

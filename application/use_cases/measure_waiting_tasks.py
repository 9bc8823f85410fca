"""How long each queue's oldest pending task has waited, each queue's work (pending plus
running), its tasks held back per reason, and the relay's backlog: what the gauges that
alerts and autoscalers read show."""

from __future__ import annotations

from dataclasses import dataclass, field

from application.ports import Clock, UnitOfWork
from domain.flow import HoldReason
from domain.task import Priority


@dataclass(frozen=True, slots=True)
class WaitingTasks:
    oldest_seconds: dict[str, float]
    undispatched: int
    # Pending plus running, per queue: what an autoscaler sizes a queue's workers by.
    work: dict[str, int]
    # Per queue, pending tasks held back unpublished, per reason (every reason, 0 included).
    held: dict[str, dict[str, int]] = field(default_factory=dict)


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
            active = self.uow.tasks.count_active_by_queue()
            loads = {load.queue: load for load in self.uow.tasks.queue_loads()}
        now = self.clock.now()
        queues = sorted({priority.queue for priority in Priority})
        seconds = {
            queue: max(0.0, (now - oldest[queue]).total_seconds()) if queue in oldest else 0.0
            for queue in queues
        }
        work = {queue: active.get(queue, 0) for queue in queues}
        held = {
            queue: {
                reason.value: loads[queue].held.get(reason.value, 0) if queue in loads else 0
                for reason in HoldReason
            }
            for queue in queues
        }
        return WaitingTasks(oldest_seconds=seconds, undispatched=undispatched, work=work, held=held)

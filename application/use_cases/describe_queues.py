"""Per-queue load for autoscalers and operators: the broker's depth beside the database's
view of what is waiting, held back, claimed by no one yet, and running."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError
from application.ports import Clock, QueueDepths, QueueLoad, UnitOfWork, WorkerRoster
from domain.flow import HoldReason
from domain.policy import ensure_admin
from domain.task import Priority
from domain.user import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QueueReport:
    """`depth`: messages on the broker (None when it cannot be read). `unclaimed`: published
    tasks no worker has claimed, whether still on the broker or reserved by a worker's
    prefetch (acks-late: the broker's list can be empty while workers hold hundreds).
    `total_work` = unclaimed + running: what an autoscaler should scale on.
    `workers_online`: workers consuming the queue that answered just now (None: unknown)."""

    queue: str
    depth: int | None
    unclaimed: int
    running: int
    total_work: int
    oldest_pending_seconds: float | None
    held: dict[str, int] = field(default_factory=dict)
    workers_online: int | None = None


@dataclass(frozen=True, slots=True)
class DescribeQueues:
    """Rules: admins only (PermissionDeniedError); every queue is reported, idle ones with
    zeros, and every hold reason, zero included; a broker that cannot be read leaves `depth`
    unknown rather than failing the report, and so do workers that cannot be asked. Raises
    DependencyUnavailableError (database)."""

    uow: UnitOfWork
    queue_depths: QueueDepths
    clock: Clock
    workers: WorkerRoster | None = None

    def execute(self, actor: User) -> list[QueueReport]:
        ensure_admin(actor)
        with self.uow:
            loads = {load.queue: load for load in self.uow.tasks.queue_loads()}
        try:
            depths: dict[str, int] | None = self.queue_depths.read()
        except DependencyUnavailableError as exc:
            logger.warning("queue depths unknown: %s", exc)
            depths = None
        online = self._workers_online()
        now = self.clock.now()
        reports = []
        for queue in dict.fromkeys(p.queue for p in Priority):
            load = loads.get(queue, QueueLoad(queue))
            oldest = load.oldest_pending_at
            reports.append(
                QueueReport(
                    queue=queue,
                    depth=None if depths is None else depths.get(queue, 0),
                    unclaimed=load.unclaimed,
                    running=load.running,
                    total_work=load.unclaimed + load.running,
                    oldest_pending_seconds=max(0.0, (now - oldest).total_seconds())
                    if oldest
                    else None,
                    held={reason.value: load.held.get(reason.value, 0) for reason in HoldReason},
                    workers_online=None if online is None else online.get(queue, 0),
                )
            )
        return reports

    def _workers_online(self) -> dict[str, int] | None:
        if self.workers is None:
            return None
        try:
            return self.workers.consumers()
        except DependencyUnavailableError as exc:
            logger.warning("workers online unknown: %s", exc)
            return None

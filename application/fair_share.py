"""Fair sharing of a crowded queue between owners, on the submission side: while a
queue's broker backlog is over the threshold, or tasks of it are already held back for
fair sharing, a new task is held in the database too, for ReleaseHeldTasks to release
round-robin by owner. The backlog is the last reading (QueueBacklogs), so an idle system's
submission pays a memory read and nothing else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from application.ports import QueueBacklog, QueueBacklogs, QueueDepths, UnitOfWork
from domain.flow import HoldReason
from domain.task import Task, TaskStatus


@dataclass(frozen=True, slots=True)
class FairShare:
    """`threshold`: messages waiting on a queue's broker list beyond which new tasks of it
    are held back. Only a task that would be published now is: not one held already (its
    concurrency key), delayed, or waiting for dependencies; nor one with a concurrency key,
    whose own release decides when it goes."""

    backlogs: QueueBacklogs
    threshold: int

    def hold_back(self, tasks: Iterable[Task], now: datetime) -> None:
        """Holds each task its queue has no room for: tasks of the queue are held already,
        or its depth (as last read, plus what this process published since, plus the
        earlier tasks of this call) would exceed the threshold."""
        depth: dict[str, int] = {}
        published: Counter[str] = Counter()
        for task in tasks:
            if (
                task.status is not TaskStatus.PENDING
                or task.held is not None
                or task.concurrency is not None
                or task.is_waiting(now)
            ):
                continue
            queue = task.queue
            if queue not in depth:
                backlog = self.backlogs.latest(queue)
                # Once some are held, all are: the release decides the order.
                depth[queue] = self.threshold if backlog.held else backlog.depth
            if depth[queue] >= self.threshold:
                task.hold(HoldReason.FAIR_SHARE)
            else:
                depth[queue] += 1
                published[queue] += 1
        for queue, count in published.items():
            self.backlogs.count_published(queue, count)


@dataclass(frozen=True, slots=True)
class ReadQueueBacklogs:
    """One reading of every queue's backlog: the broker's depths, and the tasks held back
    for fair sharing. Raises DependencyUnavailableError."""

    uow: UnitOfWork
    queue_depths: QueueDepths

    def __call__(self) -> dict[str, QueueBacklog]:
        depths = self.queue_depths.read()
        with self.uow:
            groups = self.uow.tasks.held_groups(HoldReason.FAIR_SHARE)
        held: Counter[str] = Counter()
        for group in groups:
            held[group.priority.queue] += group.count
        return {
            queue: QueueBacklog(depth=depths.get(queue, 0), held=held.get(queue, 0))
            for queue in {*depths, *held}
        }

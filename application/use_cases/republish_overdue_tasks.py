"""The sweep for lost messages: pending tasks whose message went out long ago and that no
worker ever claimed are published again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from application.ports import Clock, QueueDepths, UnitOfWork
from application.publishing import TaskPublisher

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RepublishOverdueTasks:
    """Rules: a task is overdue when it is pending, its message was accepted by the broker,
    and it became due (published, or its retry's backoff ended) more than `overdue_after`
    ago. Its message may be gone: a worker killed with it in hand (received, or a retry's
    ETA it was holding), a claim that gave up during a database outage, a queue deleted or
    evicted from the broker. Or it may still wait behind others in its queue. So per queue,
    only as many as the queue lacks (overdue tasks minus the messages it holds) are
    published again, those due longest ago first: a backlog is never doubled, and what it
    hides is recovered once it drains. A copy too many is harmless: the claim runs a task
    once. Each republished task is due again from now, so it is not swept again before
    another `overdue_after`. At most `batch_size` per queue and run.

    Returns how many were published; raises DependencyUnavailableError when the database or
    the broker cannot be read (the next run tries again).
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    queue_depths: QueueDepths
    clock: Clock
    overdue_after: timedelta
    batch_size: int

    def execute(self) -> int:
        due_before = self.clock.now() - self.overdue_after
        with self.uow:
            overdue = self.uow.tasks.count_overdue(due_before=due_before)
        if not overdue:
            return 0
        waiting = self.queue_depths.read()
        published = 0
        for queue, count in sorted(overdue.items()):
            missing = min(count - waiting.get(queue, 0), self.batch_size)
            if missing <= 0:
                continue
            with self.uow:
                tasks = self.uow.tasks.list_overdue(
                    queue=queue, due_before=due_before, limit=missing
                )
            if tasks and self.publisher.publish(tasks):
                published += len(tasks)
                logger.warning(
                    "published %d overdue task(s) of queue %s again: %d overdue, %d message(s) "
                    "waiting there",
                    len(tasks),
                    queue,
                    count,
                    waiting.get(queue, 0),
                )
        return published

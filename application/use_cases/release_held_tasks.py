"""Releasing tasks held back for fair sharing (round-robin by owner, as a crowded queue
drains) and for rate limits (as the type's token bucket allows): Beat's job, every
`release_interval_seconds`."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass

from application.errors import DependencyUnavailableError
from application.ports import Clock, QueueDepths, RateLimiter, TaskTypeCatalog, UnitOfWork
from application.publishing import TaskPublisher
from application.task_events import record_status_events
from domain.errors import ValidationError
from domain.flow import FairShareTurns, HoldReason, ReleaseWindows
from domain.task import Priority, Task
from domain.user import UserId

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReleaseHeldTasks:
    """Rules, fair sharing: per queue, as many tasks are released as its broker list has
    room for in its window (`windows`: twice what the workers took since the previous run,
    from the fair-share threshold; at most `batch_size`), highest priority first, and within
    a priority by weighted round-robin over the owners with tasks held (`turns` carries
    the round-robin from one run to the next), each owner's oldest first. Between two
    releases of a waiting owner of weight w, an owner of weight v gets at most
    ceil(v / w) + 1 (domain/flow.py:starvation_bound). A broker that cannot be read
    releases nothing for fair sharing this run.

    Rate limits: per task type, as many as its bucket grants within `horizon` seconds,
    highest priority then oldest first; each is published with its permit's delay as
    countdown, so releases are spaced evenly although this job runs in steps. A type that
    lost its rate limit (or is no longer installed) has its tasks released at once.

    Released tasks are ordinary undispatched pending tasks, committed with their status
    events before they are published; a failed publish leaves them to the relay. A held
    task cancelled meanwhile is no longer held (and one being cancelled is skipped), so
    there is nothing it could give back. Returns how many were released.
    """

    uow: UnitOfWork
    publisher: TaskPublisher
    queue_depths: QueueDepths
    rate_limiter: RateLimiter
    catalog: TaskTypeCatalog
    clock: Clock
    turns: FairShareTurns
    windows: ReleaseWindows
    horizon: float
    batch_size: int

    def execute(self) -> int:
        return self._release_fair_share() + self._release_rate_limited()

    def _release_fair_share(self) -> int:
        with self.uow:
            groups = self.uow.tasks.held_groups(HoldReason.FAIR_SHARE)
        if not groups:
            return 0
        try:
            depths = self.queue_depths.read()
        except DependencyUnavailableError as exc:
            logger.warning("queue depths unknown, no fair-share release this time: %s", exc)
            return 0
        held: dict[Priority, Counter[UserId]] = defaultdict(Counter)
        for group in groups:
            held[group.priority][group.owner_id] += group.count
        released: list[Task] = []
        with self.uow:
            weights = self.uow.users.share_weights({group.owner_id for group in groups})
            for priority in Priority:  # highest first
                room = min(
                    self.windows.room(priority.queue, depths.get(priority.queue, 0))
                    - sum(1 for task in released if task.queue == priority.queue),
                    self.batch_size - len(released),
                )
                if room <= 0 or not held[priority]:
                    continue
                owners = self.turns.next(priority, held[priority], weights, room)
                oldest = {
                    owner: iter(
                        self.uow.tasks.list_held_for(
                            HoldReason.FAIR_SHARE, priority=priority, owner_id=owner, limit=count
                        )
                    )
                    for owner, count in Counter(owners).items()
                }
                # In turn order, so the first published are the first released.
                turns = (next(oldest[owner], None) for owner in owners)
                now_released = self._release([task for task in turns if task is not None])
                self.windows.released(priority.queue, len(now_released))
                released += now_released
            record_status_events(self.uow, released, at=self.clock.now())
            self.uow.commit()
        self.publisher.publish(released)
        return len(released)

    def _release_rate_limited(self) -> int:
        with self.uow:
            groups = self.uow.tasks.held_groups(HoldReason.RATE_LIMIT)
        waiting: Counter[str] = Counter()
        for group in groups:
            waiting[group.task_type] += group.count
        released = 0
        for task_type, count in waiting.items():
            try:
                released += self._release_of_type(task_type, min(count, self.batch_size))
            except DependencyUnavailableError as exc:
                logger.warning("rate-limited %s tasks not released this time: %s", task_type, exc)
        return released

    def _release_of_type(self, task_type: str, count: int) -> int:
        try:
            limit = self.catalog.get(task_type).rate_limit
        except ValidationError:  # no longer installed: held back by nothing now
            limit = None
        if limit is None:
            delays = [0.0] * count
        else:
            delays = self.rate_limiter.reserve(task_type, limit, count, horizon=self.horizon)
        if not delays:
            return 0
        tasks: list[Task] = []
        with self.uow:
            for priority in Priority:
                tasks += self._release(
                    self.uow.tasks.list_held_for(
                        HoldReason.RATE_LIMIT,
                        priority=priority,
                        task_type=task_type,
                        limit=len(delays) - len(tasks),
                    )
                )
                if len(tasks) == len(delays):
                    break
            record_status_events(self.uow, tasks, at=self.clock.now())
            self.uow.commit()
        by_delay: dict[float, list[Task]] = defaultdict(list)
        for task, delay in zip(tasks, delays, strict=False):
            by_delay[round(delay, 3)].append(task)
        for delay, due in sorted(by_delay.items()):
            self.publisher.publish(due, countdown=delay or None)
        return len(tasks)

    def _release(self, tasks: list[Task]) -> list[Task]:
        for task in tasks:
            task.release_held()
        self.uow.tasks.update_many(tasks)
        return tasks

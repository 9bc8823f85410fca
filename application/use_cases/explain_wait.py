"""Why a pending task is waiting: held for a concurrency slot, for fair sharing or for its
type's rate limit, delayed, or queued.

There is no `quota` reason: a submission over the owner's active-task quota is refused
(429, QuotaExceededError) and nothing is stored, so no stored task waits for its quota."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from application.access import load_task
from application.ports import Clock, TaskTypeCatalog, UnitOfWork
from domain.errors import ValidationError
from domain.flow import HoldReason
from domain.policy import Action
from domain.task import Task, TaskId, TaskStatus
from domain.user import User


class WaitReason(enum.StrEnum):
    QUEUED = "queued"
    DELAYED = "delayed"
    CONCURRENCY = "concurrency"
    FAIR_SHARE = "fair_share"
    RATE_LIMIT = "rate_limit"


@dataclass(frozen=True, slots=True)
class Wait:
    """What a pending task waits for. `position` (queued): dispatched tasks of its queue
    due before it; `until` (delayed): when its retry's backoff ends; `concurrency_key`,
    `holders` and `limit` (concurrency): the key's tasks holding a slot now, of how many;
    `position` (fair_share): the owner's own tasks held in the queue before it, released
    round-robin with other owners'; `rate_limit` and `position` (rate_limit): the type's
    limit, and its tasks held before this one."""

    reason: WaitReason
    queue: str
    position: int | None = None
    until: datetime | None = None
    concurrency_key: str | None = None
    holders: int | None = None
    limit: int | None = None
    rate_limit: str | None = None


@dataclass(frozen=True, slots=True)
class ExplainWait:
    """Rules: only a pending task waits (else None); as GetTask, someone else's task is not
    found. Raises NotFoundError."""

    uow: UnitOfWork
    clock: Clock
    catalog: TaskTypeCatalog | None = None

    def execute(self, actor: User, task_id: TaskId) -> tuple[Task, Wait | None]:
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.READ)
            return task, self._wait(task)

    def _wait(self, task: Task) -> Wait | None:
        if task.status is not TaskStatus.PENDING:
            return None
        if task.held is HoldReason.CONCURRENCY and task.concurrency is not None:
            return Wait(
                WaitReason.CONCURRENCY,
                task.queue,
                concurrency_key=task.concurrency.key,
                holders=self.uow.tasks.count_slot_holders(task.concurrency.key),
                limit=task.concurrency.limit,
            )
        if task.held is HoldReason.FAIR_SHARE:
            return Wait(
                WaitReason.FAIR_SHARE,
                task.queue,
                position=self.uow.tasks.count_held_before(task, owner_id=task.user_id),
            )
        if task.held is HoldReason.RATE_LIMIT:
            return Wait(
                WaitReason.RATE_LIMIT,
                task.queue,
                position=self.uow.tasks.count_held_before(task, task_type=task.task_type),
                rate_limit=self._rate_limit(task.task_type),
            )
        now = self.clock.now()
        if task.is_waiting(now):  # a delayed task, not due yet
            return Wait(WaitReason.DELAYED, task.queue, until=task.run_at)
        if task.due_at is not None and task.due_at > now:  # a retry's backoff
            return Wait(WaitReason.DELAYED, task.queue, until=task.due_at)
        ahead = self.uow.tasks.count_queued_ahead(task) if task.dispatched else None
        return Wait(WaitReason.QUEUED, task.queue, position=ahead)

    def _rate_limit(self, task_type: str) -> str | None:
        if self.catalog is None:
            return None
        try:
            limit = self.catalog.get(task_type).rate_limit
        except ValidationError:
            return None
        return str(limit) if limit else None

"""Reading one's own quota: how much of each limit is used."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.policy import ensure_active
from domain.user import User


@dataclass(frozen=True, slots=True)
class Usage:
    used: int
    limit: int


@dataclass(frozen=True, slots=True)
class Quota:
    active_tasks: Usage  # pending plus running tasks, the count SubmitTask holds to the limit


@dataclass(frozen=True, slots=True)
class GetQuota:
    """Rules: the count is the one submitting checks, so `used < limit` means a submission
    will not be refused for the quota (unless another one gets there first).

    Raises PermissionDeniedError (inactive actor).
    """

    uow: UnitOfWork
    max_active_tasks: int

    def execute(self, actor: User) -> Quota:
        ensure_active(actor)
        with self.uow:
            used = self.uow.tasks.count_active(actor.id)
        return Quota(active_tasks=Usage(used=used, limit=self.max_active_tasks))

"""The fencing token a new scheduler lease works under, claimed in the database."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ClaimSchedulerFence:
    """Rules: a new scheduler lease works under its lock's generation, unless the database
    already holds that fence or a later one: the lock service lost its counter (Redis
    flushed, or restarted without persistence), which started again from 1, below the fences
    of the leases before. Then it works under one above the highest stored, so it is not
    refused by its predecessors' fences, and a predecessor still at work (it did not notice
    yet that its lease went with the data) is refused instead. The fence is written on every
    schedule at once, so an older holder is refused from its next write on, whichever
    schedule it is.

    Exactly once never rested on the fence alone: the ledger's unique (schedule, fire time)
    and each schedule's version refuse a second fire whatever the fences say; the fence keeps
    a superseded holder from writing at all, and a new one from being refused.

    Returns the fence. Raises DependencyUnavailableError.
    """

    uow: UnitOfWork

    def execute(self, generation: int) -> int:
        with self.uow:
            fence = self.uow.schedules.raise_fence(at_least=generation)
            self.uow.commit()
        return fence

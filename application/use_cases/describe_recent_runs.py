"""What the workers got through lately: runs ended, failed, and how long they took, per
slice of the last hour, from taskhub's own record of attempts (no metrics system needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from application.ports import Clock, UnitOfWork
from domain.attempt import Attempt, AttemptOutcome
from domain.policy import ensure_admin
from domain.user import User

FAILED_OUTCOMES = frozenset({AttemptOutcome.FAILED, AttemptOutcome.RETRIED})


@dataclass(frozen=True, slots=True)
class RunSlice:
    """The runs that ended in [start, start + width): how many completed, how many failed
    (retried ones included), and the completed ones' mean run time (None when none)."""

    start: datetime
    completed: int
    failed: int
    mean_seconds: float | None


@dataclass(frozen=True, slots=True)
class RecentRuns:
    slices: list[RunSlice]
    width: timedelta
    complete: bool  # False when more runs ended than were read: the counts are a floor


@dataclass(frozen=True, slots=True)
class DescribeRecentRuns:
    """Rules: admins only (PermissionDeniedError); the last `window` in `slices` equal
    slices, oldest first, every slice reported (zeros when idle); at most `max_runs` runs are
    read, the latest, and the answer says when that cut any off."""

    uow: UnitOfWork
    clock: Clock
    window: timedelta = timedelta(hours=1)
    slices: int = 12
    max_runs: int = 20_000

    def execute(self, actor: User) -> RecentRuns:
        ensure_admin(actor)
        now = self.clock.now()
        since = now - self.window
        with self.uow:
            runs = self.uow.attempts.ended_since(since, limit=self.max_runs + 1)
        width = self.window / self.slices
        bins: list[list[Attempt]] = [[] for _ in range(self.slices)]
        for run in runs[: self.max_runs]:
            index = min(int((run.ended_at - since) / width), self.slices - 1)
            bins[index].append(run)
        return RecentRuns(
            [_slice(since + index * width, runs) for index, runs in enumerate(bins)],
            width=width,
            complete=len(runs) <= self.max_runs,
        )


def _slice(start: datetime, runs: list[Attempt]) -> RunSlice:
    completed = [r for r in runs if r.outcome is AttemptOutcome.COMPLETED]
    durations = [r.duration_seconds for r in completed if r.duration_seconds is not None]
    return RunSlice(
        start=start,
        completed=len(completed),
        failed=sum(1 for r in runs if r.outcome in FAILED_OUTCOMES),
        mean_seconds=sum(durations) / len(durations) if durations else None,
    )

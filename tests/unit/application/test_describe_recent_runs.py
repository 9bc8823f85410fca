"""The last hour's runs for the admins' charts: per slice, completed, failed and mean run
time, from the attempts taskhub records."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.use_cases.describe_recent_runs import DescribeRecentRuns
from domain.attempt import Attempt, AttemptOutcome
from domain.errors import PermissionDeniedError
from domain.user import User
from tests.factories import make_task


def record(
    uow: InMemoryUnitOfWork, owner: User, clock: FixedClock, *runs: tuple[int, float, str]
) -> None:
    """Each run: (minutes before now it ended, seconds it took, outcome)."""
    with uow:
        for minutes_ago, took, outcome in runs:
            task = make_task(user=owner)
            uow.tasks.add(task)
            ended = clock.now() - timedelta(minutes=minutes_ago)
            started = ended - timedelta(seconds=took)
            uow.attempts.add(Attempt(task.id, 1, None, started, ended, AttemptOutcome(outcome)))
        uow.commit()


def test_runs_are_counted_in_the_slice_they_ended_in_oldest_slice_first(
    uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, admin: User
) -> None:
    record(
        uow,
        alice,
        clock,
        (1, 2.0, "completed"),
        (2, 4.0, "completed"),
        (3, 1.0, "failed"),
        (4, 1.0, "retried"),
        (58, 10.0, "completed"),
        (61, 1.0, "completed"),  # over an hour ago: not counted
        (30, 1.0, "cancelled"),  # neither completed nor failed
    )

    runs = DescribeRecentRuns(uow, clock).execute(admin)

    assert runs.width == timedelta(minutes=5)
    assert len(runs.slices) == 12
    assert runs.slices[0].start == clock.now() - timedelta(hours=1)
    first, last = runs.slices[0], runs.slices[-1]
    assert (first.completed, first.failed, first.mean_seconds) == (1, 0, 10.0)
    assert (last.completed, last.failed, last.mean_seconds) == (2, 2, 3.0)
    assert [s.completed + s.failed for s in runs.slices[1:-1]] == [0] * 10
    assert runs.complete


def test_when_more_runs_ended_than_are_read_the_answer_says_so(
    uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, admin: User
) -> None:
    record(uow, alice, clock, (1, 1.0, "completed"), (2, 1.0, "completed"), (3, 1.0, "failed"))

    runs = DescribeRecentRuns(uow, clock, max_runs=2).execute(admin)

    assert not runs.complete
    assert runs.slices[-1].completed == 2  # the latest two were read


def test_only_admins_see_the_systems_runs(
    uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    with pytest.raises(PermissionDeniedError):
        DescribeRecentRuns(uow, clock).execute(alice)

"""Counting tasks by status, for the tasks-by-status gauge."""

from __future__ import annotations

from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.use_cases.count_tasks_by_status import CountTasksByStatus
from domain.task import RunToken, TaskStatus
from domain.user import User
from tests.factories import T0, make_task


def test_every_status_is_counted_across_owners_zero_where_no_task_is(
    uow: InMemoryUnitOfWork, alice: User, bob: User
) -> None:
    running = make_task(user=bob)
    running.start(run_token=RunToken("r"), at=T0)
    cancelled = make_task(user=alice)
    cancelled.cancel(at=T0)
    with uow:
        for task in (make_task(user=alice), make_task(user=bob), running, cancelled):
            uow.tasks.add(task)
        uow.commit()

    counts = CountTasksByStatus(uow).execute()

    assert counts == {
        TaskStatus.WAITING: 0,
        TaskStatus.PENDING: 2,
        TaskStatus.RUNNING: 1,
        TaskStatus.COMPLETED: 0,
        TaskStatus.FAILED: 0,
        TaskStatus.CANCELLED: 1,
    }

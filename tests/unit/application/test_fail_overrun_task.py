"""A run its worker stopped at the hard time limit fails the task at once, saying why."""

from __future__ import annotations

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.use_cases.fail_overrun_task import FailOverrunTask
from domain.task import RunToken, Task, TaskError, TaskId, TaskStatus
from tests.factories import make_running_task, make_task


def saved(uow: InMemoryUnitOfWork, task: Task) -> Task:
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


def stored(uow: InMemoryUnitOfWork, task_id: TaskId) -> Task:
    with uow:
        return uow.tasks.get(task_id)


def test_the_running_run_fails_with_time_limit_exceeded_and_no_retry(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    task = saved(uow, make_running_task(max_attempts=3))

    failed = FailOverrunTask(uow=uow, clock=clock).execute(task.id, limit_seconds=2.5)

    row = stored(uow, task.id)
    assert failed is not None
    assert row.status is TaskStatus.FAILED
    assert row.error == TaskError(
        "TimeLimitExceeded", "ran past its time limit (2.5s); its process was stopped"
    )
    assert row.attempts == 1
    assert row.completed_at == clock.now()
    assert row.run_token is None


def test_a_run_that_completed_at_the_limit_keeps_its_result(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    task = make_running_task()
    task.complete(run_token=RunToken("run-1"), result=42, at=clock.now())
    saved(uow, task)

    failed = FailOverrunTask(uow=uow, clock=clock).execute(task.id, limit_seconds=2)

    assert failed is None
    row = stored(uow, task.id)
    assert (row.status, row.result, row.error) == (TaskStatus.COMPLETED, 42, None)


def test_a_cancelled_or_deleted_task_is_left_alone(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    cancelled = make_running_task()
    cancelled.cancel(at=clock.now())
    saved(uow, cancelled)
    use_case = FailOverrunTask(uow=uow, clock=clock)

    assert use_case.execute(cancelled.id, limit_seconds=2) is None
    assert use_case.execute(make_task().id, limit_seconds=2) is None
    assert stored(uow, cancelled.id).status is TaskStatus.CANCELLED

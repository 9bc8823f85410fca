"""The worker's use cases: claim, progress, complete, fail, retry, all fenced by the run token."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.publishing import TaskPublisher
from application.running.outcomes import Completed, Failed, Retried
from application.running.read_owner_role import ReadOwnerRole
from application.running.record_outcome import RecordOutcome
from application.running.report_progress import ReportProgress
from application.running.start_task import StartTask
from application.use_cases.submit_task import SubmitTask
from domain.errors import (
    ConcurrencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    StaleRunError,
)
from domain.task import RunToken, Task, TaskError, TaskId, TaskStatus
from domain.user import User, UserId
from tests.factories import record_outcome


@pytest.fixture
def task(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
    alice: User,
) -> Task:
    submit = SubmitTask(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=100
    )
    return submit.execute(alice, name="wait", task_type="sleep", kwargs={"seconds": 1})


def stored(uow: InMemoryUnitOfWork, task_id: TaskId) -> Task:
    with uow:
        return uow.tasks.get(task_id)


def test_claim_moves_the_task_to_running_and_hands_out_a_run_token(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)

    row = stored(uow, task.id)
    assert row.status is TaskStatus.RUNNING
    assert row.run_token == run.run_token
    assert row.attempts == run.attempt == 1
    assert row.started_at == clock.now()
    assert (run.task_type, run.kwargs) == ("sleep", {"seconds": 1})


def test_a_claimed_run_says_whose_task_it_is(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task, alice: User
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)

    assert run.owner_id == alice.id


def test_the_owner_role_is_read_as_stored_and_a_missing_owner_is_no_admin(
    uow: InMemoryUnitOfWork, alice: User
) -> None:
    read = ReadOwnerRole(uow=uow)

    assert read.execute(alice.id) is False
    assert read.execute(UserId(uuid4())) is False


def test_a_second_delivery_of_the_same_task_cannot_claim_it(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task
) -> None:
    start = StartTask(uow=uow, clock=clock)
    first = start.execute(task.id)

    with pytest.raises(InvalidTransitionError):
        start.execute(task.id)

    assert stored(uow, task.id).run_token == first.run_token
    assert stored(uow, task.id).attempts == 1


def test_of_two_concurrent_claims_exactly_one_wins(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task
) -> None:
    other = InMemoryUnitOfWork(uow.store)
    with other:
        loser_view = other.tasks.get(task.id)
        StartTask(uow=uow, clock=clock).execute(task.id)
        loser_view.start(run_token=RunToken("late"), at=clock.now())

        with pytest.raises(ConcurrencyConflictError):
            other.tasks.update(loser_view)

    assert stored(uow, task.id).run_token != "late"


def test_progress_is_stored_for_the_current_run(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)

    ReportProgress(uow=uow, clock=clock).execute(task.id, run.run_token, 40, "halfway-ish")

    row = stored(uow, task.id)
    assert (row.progress.percent, row.progress_message) == (40, "halfway-ish")


def test_a_stale_run_can_neither_report_nor_complete(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    stale = RunToken("not-the-current-run")

    with pytest.raises(StaleRunError):
        ReportProgress(uow=uow, clock=clock).execute(task.id, stale, 10)
    with pytest.raises(StaleRunError):
        record_outcome(uow, clock, replace(run, run_token=stale), Completed({"ok": True}))

    assert stored(uow, task.id).status is TaskStatus.RUNNING


def test_completion_records_the_result_and_full_progress(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    clock.advance(seconds=5)

    record_outcome(uow, clock, run, Completed({"slept": 1}))

    row = stored(uow, task.id)
    assert row.status is TaskStatus.COMPLETED
    assert row.result == {"slept": 1}
    assert row.progress.percent == 100
    assert row.completed_at == clock.now()


def test_failure_records_the_error_type_and_message(
    uow: InMemoryUnitOfWork, clock: FixedClock, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)

    record_outcome(uow, clock, run, Failed("ValueError", "bad input"))

    row = stored(uow, task.id)
    assert row.status is TaskStatus.FAILED
    assert row.error == TaskError("ValueError", "bad input")


def test_retry_requeues_with_a_delay_until_attempts_run_out_then_fails(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    task: Task,
) -> None:
    start, record = (
        StartTask(uow=uow, clock=clock),
        RecordOutcome(uow=uow, publisher=publisher, clock=clock),
    )
    outcomes = []
    for _ in range(task.max_attempts):
        run = start.execute(task.id)
        outcomes.append(record.execute(run, Retried("TimeoutError", "flaky", 2.0)).status)

    assert outcomes == [TaskStatus.PENDING, TaskStatus.PENDING, TaskStatus.FAILED]
    assert [e.countdown for e in dispatcher.enqueued] == [None, 2.0, 2.0]
    assert stored(uow, task.id).error == TaskError("TimeoutError", "flaky")
    assert stored(uow, task.id).attempts == 3


def test_a_deleted_task_cannot_be_claimed(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    with pytest.raises(NotFoundError):
        StartTask(uow=uow, clock=clock).execute(TaskId(uuid4()))

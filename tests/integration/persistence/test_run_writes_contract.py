"""A run's start and its completion, each written in one statement (`start_run`,
`complete_run`), store exactly what `Task.start` and `Task.complete` make of the loaded task,
on every backend, and refuse what they refuse."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidTransitionError, NotFoundError, StaleRunError
from domain.task import (
    RunCompletion,
    RunStart,
    RunToken,
    Task,
    TaskId,
    TaskStatus,
    WorkerId,
)
from domain.user import User
from tests.factories import T0, make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

START = RunStart(RunToken("run-1"), T0, WorkerId("host-a", 4242))


def test_a_start_in_one_statement_stores_what_the_entity_makes_of_it(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = make_task(user=owner)
    task.mark_dispatched(due_at=T0)
    save(new_uow, task)
    with new_uow() as uow:
        expected = uow.tasks.get(task.id)
    START.on(expected)

    with new_uow() as uow:
        returned = uow.tasks.start_run(task.id, START)
        uow.commit()
    with new_uow() as uow:
        stored = uow.tasks.get(task.id)

    assert vars(returned) == vars(expected)
    assert vars(stored) == vars(expected)
    assert (stored.status, stored.attempts, stored.run_token) == (
        TaskStatus.RUNNING,
        1,
        RunToken("run-1"),
    )


def test_a_second_start_is_refused_naming_the_status_it_found(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_task(user=owner))
    with new_uow() as uow:
        uow.tasks.start_run(task.id, START)
        uow.commit()

    with new_uow() as uow, pytest.raises(InvalidTransitionError) as refused:
        uow.tasks.start_run(task.id, RunStart(RunToken("run-2"), T0))
    with new_uow() as uow:
        stored = uow.tasks.get(task.id)

    assert (refused.value.from_, refused.value.to) == ("running", "running")
    assert (stored.run_token, stored.attempts) == (RunToken("run-1"), 1)


def test_a_cancelled_task_is_not_started(new_uow: NewUnitOfWork, owner: User) -> None:
    task = make_task(user=owner)
    task.cancel(at=T0)
    save(new_uow, task)

    with new_uow() as uow, pytest.raises(InvalidTransitionError) as refused:
        uow.tasks.start_run(task.id, START)

    assert refused.value.from_ == "cancelled"


def test_a_missing_task_is_not_found(new_uow: NewUnitOfWork) -> None:
    with new_uow() as uow, pytest.raises(NotFoundError):
        uow.tasks.start_run(TaskId(uuid4()), START)


def running(new_uow: NewUnitOfWork, owner: User) -> Task:
    task = save(new_uow, make_task(user=owner))
    with new_uow() as uow:
        started = uow.tasks.start_run(task.id, START)
        started.report_progress(run_token=START.run_token, percent=40, at=T0, message="2/5 files")
        uow.tasks.update(started)
        uow.commit()
    return started


@pytest.mark.parametrize(
    ("result", "message"),
    [({"rows": 3, "ratio": 0.5, "tags": ["a"]}, "done"), (None, None)],
    ids=["a-result-and-a-final-message", "no-result-no-message"],
)
def test_a_completion_in_one_statement_stores_what_the_entity_makes_of_it(
    new_uow: NewUnitOfWork, owner: User, result: object, message: str | None
) -> None:
    task = running(new_uow, owner)
    completion = RunCompletion(START.run_token, result, T0, message)
    with new_uow() as uow:
        expected = uow.tasks.get(task.id)
    completion.on(expected)

    with new_uow() as uow:
        returned = uow.tasks.complete_run(task.id, completion)
        uow.commit()
    with new_uow() as uow:
        stored = uow.tasks.get(task.id)

    assert vars(returned) == vars(expected)
    assert vars(stored) == vars(expected)
    assert (stored.status, stored.progress.percent, stored.run_token) == (
        TaskStatus.COMPLETED,
        100,
        None,
    )


def test_a_completion_by_a_run_that_is_no_longer_current_is_refused_and_writes_nothing(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = running(new_uow, owner)
    stale = RunCompletion(RunToken("an-earlier-run"), {"rows": 1}, T0)

    with new_uow() as uow, pytest.raises(StaleRunError):
        uow.tasks.complete_run(task.id, stale)
    with new_uow() as uow:
        stored = uow.tasks.get(task.id)

    assert (stored.status, stored.result, stored.run_token) == (
        TaskStatus.RUNNING,
        None,
        START.run_token,
    )


def test_a_completion_of_a_cancelled_task_is_refused(new_uow: NewUnitOfWork, owner: User) -> None:
    task = running(new_uow, owner)
    with new_uow() as uow:
        cancelled = uow.tasks.get(task.id)
        cancelled.cancel(at=T0)
        uow.tasks.update(cancelled)
        uow.commit()

    with new_uow() as uow, pytest.raises(StaleRunError):
        uow.tasks.complete_run(task.id, RunCompletion(START.run_token, 1, T0))


def test_a_completion_of_a_missing_task_is_not_found(new_uow: NewUnitOfWork) -> None:
    with new_uow() as uow, pytest.raises(NotFoundError):
        uow.tasks.complete_run(TaskId(uuid4()), RunCompletion(START.run_token, 1, T0))

"""A run's start written in one statement (`TaskRepository.start_run`) stores exactly what
`Task.start` makes of the loaded task, on every backend, and refuses what it refuses."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.errors import InvalidTransitionError, NotFoundError
from domain.task import RunStart, RunToken, TaskId, TaskStatus, WorkerId
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

"""Adding many tasks at once: the same rows as adding them one by one, on every backend."""

from __future__ import annotations

from dataclasses import asdict, replace

import pytest

from domain.errors import AlreadyExistsError
from domain.task import Priority, RunToken, TaskStatus
from domain.user import User
from tests.factories import T0, make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def test_tasks_added_together_come_back_whole(new_uow: NewUnitOfWork, owner: User) -> None:
    tasks = [
        make_task(user=owner, name="plain"),
        replace(
            make_task(user=owner, priority=Priority.HIGH, kwargs={"nested": {"x": [1, None]}}),
            args=[1, "two", {"three": 3.5}],
            request_id="req-7",
        ),
    ]

    with new_uow() as uow:
        uow.tasks.add_many(tasks)
        uow.commit()

    with new_uow() as uow:
        assert [asdict(uow.tasks.get(t.id)) for t in tasks] == [asdict(t) for t in tasks]


def test_tasks_added_together_are_not_stored_without_a_commit(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    with new_uow() as uow:
        uow.tasks.add_many([make_task(user=owner) for _ in range(3)])

    with new_uow() as uow:
        assert uow.tasks.count_active(owner.id) == 0


def test_a_taken_id_refuses_the_whole_add(new_uow: NewUnitOfWork, owner: User) -> None:
    taken = save(new_uow, make_task(user=owner))

    with new_uow() as uow, pytest.raises(AlreadyExistsError):
        uow.tasks.add_many([make_task(user=owner), taken])

    with new_uow() as uow:
        assert uow.tasks.count_active(owner.id) == 1


def test_tasks_added_together_can_be_changed_in_the_same_transaction(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    tasks = [make_task(user=owner) for _ in range(2)]

    with new_uow() as uow:
        uow.tasks.add_many(tasks)
        uow.tasks.mark_dispatched([t.id for t in tasks], due_at=T0)
        tasks[0].start(run_token=RunToken("r1"), at=T0)
        uow.tasks.update(tasks[0])
        uow.commit()

    with new_uow() as uow:
        stored = [uow.tasks.get(t.id) for t in tasks]
    assert [s.status for s in stored] == [TaskStatus.RUNNING, TaskStatus.PENDING]
    assert stored[1].dispatched is True


def test_adding_no_tasks_does_nothing(new_uow: NewUnitOfWork, owner: User) -> None:
    with new_uow() as uow:
        uow.tasks.add_many([])
        uow.commit()

    with new_uow() as uow:
        assert uow.tasks.count_active(owner.id) == 0

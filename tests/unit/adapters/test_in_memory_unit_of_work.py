"""The in-memory unit of work keeps the promises of the port, like the SQL one."""

from __future__ import annotations

import pytest

from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from domain.errors import AlreadyExistsError, ConcurrencyConflictError
from domain.task import RunToken, TaskStatus
from tests.factories import T0, make_task, make_user


def test_nothing_is_kept_without_a_commit() -> None:
    uow = InMemoryUnitOfWork()

    with uow:
        uow.tasks.add(make_task())

    assert uow.store.tasks == {}


def test_an_error_inside_the_block_rolls_everything_back() -> None:
    uow = InMemoryUnitOfWork()

    def add_then_crash() -> None:
        with uow:
            uow.users.add(make_user())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        add_then_crash()

    assert uow.store.users == {}


def test_loaded_entities_are_copies_until_updated() -> None:
    uow, task = InMemoryUnitOfWork(), make_task()
    with uow:
        uow.tasks.add(task)
        uow.commit()

    with uow:
        loaded = uow.tasks.get(task.id)
        loaded.rename("changed but not saved")
        uow.commit()

    assert uow.store.tasks[task.id].name == task.name


def test_a_writer_that_read_an_old_status_loses_with_a_conflict() -> None:
    uow, task = InMemoryUnitOfWork(), make_task()
    with uow:
        uow.tasks.add(task)
        uow.commit()
    slow = InMemoryUnitOfWork(uow.store)

    with slow:
        stale = slow.tasks.get(task.id)
        with uow:
            fresh = uow.tasks.get(task.id)
            fresh.cancel(at=T0)
            uow.tasks.update(fresh)
            uow.commit()
        stale.start(run_token=RunToken("r"), at=T0)
        with pytest.raises(ConcurrencyConflictError):
            slow.tasks.update(stale)

    assert uow.store.tasks[task.id].status is TaskStatus.CANCELLED


def test_one_writer_may_update_the_same_task_twice_in_a_transaction() -> None:
    uow, task = InMemoryUnitOfWork(), make_task()
    with uow:
        uow.tasks.add(task)
        uow.commit()

    with uow:
        loaded = uow.tasks.get(task.id)
        loaded.start(run_token=RunToken("r"), at=T0)
        uow.tasks.update(loaded)
        loaded.report_progress(run_token=RunToken("r"), percent=5, at=T0)
        uow.tasks.update(loaded)
        uow.commit()

    assert uow.store.tasks[task.id].progress.percent == 5


def test_duplicate_emails_are_refused() -> None:
    uow = InMemoryUnitOfWork()

    with uow:
        uow.users.add(make_user(email="same@example.com"))
        with pytest.raises(AlreadyExistsError):
            uow.users.add(make_user(email="SAME@example.com"))

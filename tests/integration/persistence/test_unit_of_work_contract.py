"""Every unit of work keeps the port's promises: one transaction per block, kept on commit."""

from __future__ import annotations

import pytest

from domain.errors import NotFoundError
from domain.user import User
from tests.factories import make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def test_what_is_committed_is_seen_by_the_next_unit_of_work(new_uow: NewUnitOfWork) -> None:
    user = make_user()
    with new_uow() as uow:
        uow.users.add(user)
        uow.commit()

    with new_uow() as uow:
        loaded = uow.users.get(user.id)

    assert loaded.email == user.email


def test_nothing_is_kept_without_a_commit(new_uow: NewUnitOfWork) -> None:
    user = make_user()
    with new_uow() as uow:
        uow.users.add(user)

    with new_uow() as uow, pytest.raises(NotFoundError):
        uow.users.get(user.id)


def test_an_error_inside_the_block_rolls_everything_back(new_uow: NewUnitOfWork) -> None:
    user = make_user()

    def add_then_crash() -> None:
        with new_uow() as uow:
            uow.users.add(user)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        add_then_crash()

    with new_uow() as uow:
        assert uow.users.find_by_email(user.email) is None


def test_a_transaction_locked_for_writing_writes_and_commits_as_any_other(
    new_uow: NewUnitOfWork,
) -> None:
    user = make_user()
    with new_uow() as uow:
        uow.lock_for_writing()
        uow.users.add(user)
        uow.commit()

    with new_uow() as uow:
        assert uow.users.get(user.id).email == user.email


def test_an_explicit_rollback_discards_the_work(new_uow: NewUnitOfWork) -> None:
    user = make_user()
    with new_uow() as uow:
        uow.users.add(user)
        uow.rollback()

    with new_uow() as uow:
        assert uow.users.find_by_email(user.email) is None


def test_the_same_unit_of_work_can_be_entered_again_for_a_new_transaction(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    uow, task = new_uow(), make_task(user=owner)
    with uow:
        uow.tasks.add(task)
        uow.commit()

    with uow:
        loaded = uow.tasks.get(task.id)
        loaded.rename("second transaction")
        uow.tasks.update(loaded)
        uow.commit()
    with uow:
        uow.tasks.delete(uow.tasks.get(task.id))

    with uow:
        assert uow.tasks.get(task.id).name == "second transaction"


def test_loaded_entities_are_copies_until_updated(new_uow: NewUnitOfWork, owner: User) -> None:
    task = save(new_uow, make_task(user=owner, kwargs={"seconds": 1}))

    with new_uow() as uow:
        loaded = uow.tasks.get(task.id)
        loaded.rename("changed but not saved")
        loaded.kwargs["seconds"] = 99
        uow.commit()

    with new_uow() as uow:
        again = uow.tasks.get(task.id)
    assert (again.name, again.kwargs) == (task.name, {"seconds": 1})

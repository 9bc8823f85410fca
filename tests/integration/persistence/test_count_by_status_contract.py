"""`TaskRepository.count_by_status` agrees on every backend: one count per status present."""

from __future__ import annotations

from domain.task import RunToken, TaskError, TaskStatus
from domain.user import User
from tests.factories import T0, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save


def test_no_tasks_no_counts(new_uow: NewUnitOfWork) -> None:
    with new_uow() as uow:
        assert uow.tasks.count_by_status() == {}


def test_tasks_of_every_owner_are_counted_by_status_leaving_out_empty_statuses(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    other = save(new_uow, make_user(email="other@example.com"))
    failed = make_task(user=owner)
    failed.start(run_token=RunToken("r1"), at=T0)
    failed.fail(run_token=RunToken("r1"), error=TaskError("ValueError", "boom"), at=T0)
    running = make_task(user=other)
    running.start(run_token=RunToken("r2"), at=T0)
    save(new_uow, make_task(user=owner), make_task(user=other), make_task(user=owner))
    save(new_uow, failed, running)

    with new_uow() as uow:
        counts = uow.tasks.count_by_status()

    assert counts == {TaskStatus.PENDING: 3, TaskStatus.RUNNING: 1, TaskStatus.FAILED: 1}

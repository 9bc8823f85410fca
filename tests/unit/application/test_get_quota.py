"""Reading one's own quota."""

from __future__ import annotations

import pytest

from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.use_cases.get_quota import GetQuota, Quota, Usage
from domain.errors import PermissionDeniedError
from domain.task import RunToken
from domain.user import User
from tests.factories import T0, make_task, make_user


def add_tasks(
    uow: InMemoryUnitOfWork, owner: User, *, pending: int, running: int, done: int
) -> None:
    with uow:
        for n in range(pending + running + done):
            task = make_task(user=owner)
            if n >= pending:
                task.start(run_token=RunToken(f"run-{n}"), at=T0)
            if n >= pending + running:
                task.complete(run_token=RunToken(f"run-{n}"), result=None, at=T0)
            uow.tasks.add(task)
        uow.commit()


def test_the_quota_counts_pending_and_running_tasks_only(
    uow: InMemoryUnitOfWork, alice: User, bob: User
) -> None:
    add_tasks(uow, alice, pending=2, running=1, done=4)
    add_tasks(uow, bob, pending=5, running=0, done=0)

    quota = GetQuota(uow=uow, max_active_tasks=10).execute(alice)

    assert quota == Quota(active_tasks=Usage(used=3, limit=10))


def test_a_deactivated_user_cannot_read_a_quota(uow: InMemoryUnitOfWork) -> None:
    with pytest.raises(PermissionDeniedError):
        GetQuota(uow=uow, max_active_tasks=10).execute(make_user(is_active=False))

"""Threads racing on one database: each task gets one winner, losers get a conflict, never a
raw driver error such as SQLite's 'database is locked'; one owner's quota checks take turns."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine, event, select

from adapters.sqlalchemy.tables import TaskRow
from application.quota import ensure_within_active_task_quota
from domain.errors import (
    ConcurrencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    QuotaExceededError,
)
from domain.task import RunToken, TaskId
from domain.user import User, UserId
from tests.factories import T0, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save, sql_units_of_work

THREADS = 8
TASKS = 12


def start_all(new_uow: NewUnitOfWork, task_ids: list[TaskId], worker: str) -> list[TaskId]:
    """Try to claim every task for `worker`; the ones it won."""
    uow, won = new_uow(), []
    for task_id in task_ids:
        try:
            with uow:
                task = uow.tasks.get(task_id)
                task.start(run_token=RunToken(worker), at=T0)
                uow.tasks.update(task)
                time.sleep(0.002)  # hold the write a moment, so writers really contend
                uow.commit()
            won.append(task_id)
        except (ConcurrencyConflictError, InvalidTransitionError):
            pass  # another worker got there first
    return won


def test_racing_workers_each_task_is_claimed_exactly_once(
    new_sql_uow: NewUnitOfWork, engine: Engine
) -> None:
    owner = save(new_sql_uow, make_user())
    tasks = [make_task(user=owner) for _ in range(TASKS)]
    save(new_sql_uow, *tasks)
    ids = [t.id for t in tasks]
    barrier = threading.Barrier(THREADS)

    def worker(n: int) -> list[TaskId]:
        barrier.wait()
        return start_all(new_sql_uow, ids, f"worker-{n}")

    with ThreadPoolExecutor(THREADS) as pool:
        won = dict(zip(range(THREADS), pool.map(worker, range(THREADS)), strict=True))

    winners = {task_id: f"worker-{n}" for n, claimed in won.items() for task_id in claimed}
    assert sum(len(claimed) for claimed in won.values()) == TASKS
    with engine.connect() as connection:
        stored = dict(connection.execute(select(TaskRow.id, TaskRow.run_token)).all())
    assert stored == winners


@pytest.mark.postgres
def test_concurrent_relays_on_postgresql_skip_the_rows_another_relay_holds(
    postgresql_url: str,
) -> None:
    with sql_units_of_work(postgresql_url) as new_uow:
        owner = save(new_uow, make_user())
        tasks = [make_task(user=owner, at=T0) for _ in range(4)]
        save(new_uow, *tasks)

        with new_uow() as first, new_uow() as second:
            taken = first.tasks.list_undispatched(created_before=T0 + timedelta(seconds=1), limit=2)
            left = second.tasks.list_undispatched(
                created_before=T0 + timedelta(seconds=1), limit=10
            )

    assert len(taken) == 2
    assert {t.id for t in left} == {t.id for t in tasks} - {t.id for t in taken}


def test_a_quota_check_waits_for_another_of_the_same_owner_and_counts_its_tasks(
    new_sql_uow: NewUnitOfWork, engine: Engine
) -> None:
    owner, other = save(new_sql_uow, make_user()), save(new_sql_uow, make_user())

    def submission(user: User) -> None:
        with new_sql_uow() as uow:
            ensure_within_active_task_quota(uow, user.id, limit=1)
            uow.tasks.add(make_task(user=user))
            uow.commit()

    with ThreadPoolExecutor(2) as pool, new_sql_uow() as first:
        ensure_within_active_task_quota(first, owner.id, limit=1)
        first.tasks.add(make_task(user=owner))
        same_owner = pool.submit(submission, owner)
        if engine.dialect.name == "postgresql":
            # A row lock: another owner's submission is not held up (SQLite has one writer).
            pool.submit(submission, other).result(timeout=30)
        time.sleep(0.5)  # time enough for the same owner's check to count, were it not held
        assert not same_owner.done()
        first.commit()

    with pytest.raises(QuotaExceededError):
        same_owner.result(timeout=30)


def test_locking_a_user_returns_them_as_stored_and_a_second_lock_reads_nothing(
    new_sql_uow: NewUnitOfWork, engine: Engine
) -> None:
    owner = save(new_sql_uow, make_user())
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with new_sql_uow() as uow:
            held = uow.users.lock(owner.id)
            again = uow.users.lock(owner.id)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert (held.id, held.email, held.token_version) == (owner.id, owner.email, 0)
    assert again.id == owner.id
    assert len([s for s in statements if "users" in s]) == 1, statements
    with new_sql_uow() as uow, pytest.raises(NotFoundError):
        uow.users.lock(UserId(uuid4()))


def test_a_lock_waits_for_a_deactivation_in_flight_and_returns_the_account_deactivated(
    new_sql_uow: NewUnitOfWork,
) -> None:
    owner = save(new_sql_uow, make_user())

    def lock_owner() -> User:
        with new_sql_uow() as uow:
            return uow.users.lock(owner.id)

    with ThreadPoolExecutor(1) as pool, new_sql_uow() as deactivating:
        user = deactivating.users.lock(owner.id)
        user.deactivate()
        deactivating.users.update(user)
        locked = pool.submit(lock_owner)
        time.sleep(0.5)  # time enough to read the account, were it not held
        assert not locked.done()
        deactivating.commit()

    seen = locked.result(timeout=30)
    assert (seen.is_active, seen.token_version) == (False, 1)

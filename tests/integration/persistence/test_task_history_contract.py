"""Attempts and task logs behave alike in memory and on each database: stored as given,
a task's log capped oldest first, and both gone with their task (purge or delete)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.attempt import Attempt, AttemptOutcome, LogLevel, TaskLogLine
from domain.task import TaskError, WorkerId
from domain.user import User
from tests.factories import make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_attempts_are_kept_once_per_number_and_listed_in_order(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_task(user=owner))
    second = Attempt(
        task.id,
        2,
        None,
        T0 + timedelta(seconds=9),
        T0 + timedelta(seconds=10),
        AttemptOutcome.COMPLETED,
    )
    first = Attempt(
        task.id,
        1,
        WorkerId("w1", 17),
        T0,
        T0 + timedelta(seconds=3),
        AttemptOutcome.RETRIED,
        TaskError("ConnectionError", "refused", "Traceback ...\nConnectionError: refused\n"),
    )
    with new_uow() as uow:
        uow.attempts.add(second)
        uow.attempts.add(first)
        uow.commit()
    with new_uow() as uow:
        uow.attempts.add(Attempt(task.id, 1, None, None, T0, AttemptOutcome.CANCELLED))
        uow.commit()

    with new_uow() as uow:
        assert uow.attempts.list(task.id) == [first, second]
    assert first.duration_seconds == 3.0


def test_attempts_ended_since_a_time_are_every_tasks_latest_first_and_capped(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    tasks = [save(new_uow, make_task(user=owner)) for _ in range(3)]
    with new_uow() as uow:
        for minutes, task in enumerate(tasks):
            ended = T0 + timedelta(minutes=minutes)
            uow.attempts.add(Attempt(task.id, 1, None, ended, ended, AttemptOutcome.COMPLETED))
        uow.commit()

    with new_uow() as uow:
        latest = uow.attempts.ended_since(T0, limit=10)
        capped = uow.attempts.ended_since(T0 - timedelta(minutes=1), limit=2)
    assert [a.task_id for a in latest] == [tasks[2].id, tasks[1].id]  # strictly after T0
    assert [a.task_id for a in capped] == [tasks[2].id, tasks[1].id]


def test_a_tasks_log_keeps_its_newest_lines_numbered_in_order(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    task = save(new_uow, make_task(user=owner))

    def line(n: int) -> TaskLogLine:
        return TaskLogLine(task.id, 1, LogLevel.INFO, f"line {n}", T0 + timedelta(seconds=n))

    for batch in ([1, 2, 3], [4, 5]):
        with new_uow() as uow:
            uow.task_logs.append([line(n) for n in batch], keep=3)
            uow.commit()

    with new_uow() as uow:
        kept = uow.task_logs.page(task.id, after=None, limit=10)
        after_four = uow.task_logs.page(task.id, after=4, limit=10)
    assert [(entry.seq, entry.message, entry.logged_at) for entry in kept] == [
        (3, "line 3", T0 + timedelta(seconds=3)),
        (4, "line 4", T0 + timedelta(seconds=4)),
        (5, "line 5", T0 + timedelta(seconds=5)),
    ]
    assert [entry.seq for entry in after_four] == [5]


def test_attempts_and_log_lines_go_with_their_task(new_uow: NewUnitOfWork, owner: User) -> None:
    task = save(new_uow, make_task(user=owner))
    with new_uow() as uow:
        uow.attempts.add(Attempt(task.id, 1, None, T0, T0, AttemptOutcome.FAILED))
        uow.task_logs.append([TaskLogLine(task.id, 1, LogLevel.ERROR, "x", T0)], keep=10)
        uow.commit()

    with new_uow() as uow:
        uow.tasks.delete(uow.tasks.get(task.id))
        uow.commit()

    with new_uow() as uow:
        assert uow.attempts.list(task.id) == []
        assert uow.task_logs.page(task.id, after=None, limit=10) == []

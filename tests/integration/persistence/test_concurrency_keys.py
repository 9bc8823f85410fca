"""Concurrency keys on every backend: held tasks stay out of the outbox's queries, a run's
end releases exactly as many as came free, and racing ends or submissions never give one
slot twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from adapters.clock import SystemClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.sqlalchemy.repositories import SqlAlchemyTaskRepository
from application.flow_control import admit
from application.ports import TaskQuery
from application.running.outcomes import Completed, Retried, TaskRun
from application.running.start_task import StartTask
from application.use_cases.cancel_task import CancelTask
from domain.flow import Concurrency, HoldReason
from domain.task import Priority, Task, TaskStatus
from domain.user import User
from tests.factories import T0, make_task, make_user, record_outcome
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

KEY = "countdown:deploy-7"
LATER = T0 + timedelta(hours=1)


def keyed(
    owner: User, *, limit: int, at_minute: int = 0, priority: Priority = Priority.NORMAL
) -> Task:
    task = make_task(user=owner, at=T0 + timedelta(minutes=at_minute), priority=priority)
    task.concurrency = Concurrency(KEY, limit)
    return task


def submit(new_uow: NewUnitOfWork, *tasks: Task) -> list[Task]:
    """What a submission does in its transaction: admit, add, commit."""
    with new_uow() as uow:
        admit(uow, tasks)
        uow.tasks.add_many(tasks)
        uow.commit()
    return list(tasks)


def start(new_uow: NewUnitOfWork, task: Task) -> TaskRun:
    return StartTask(uow=new_uow(), clock=SystemClock()).execute(task.id)


def statuses(new_uow: NewUnitOfWork, tasks: list[Task]) -> list[tuple[str, str | None]]:
    with new_uow() as uow:
        loaded = [uow.tasks.get(t.id) for t in tasks]
    return [(t.status.value, t.held.value if t.held else None) for t in loaded]


def holders(new_uow: NewUnitOfWork) -> int:
    with new_uow() as uow:
        return uow.tasks.count_slot_holders(KEY)


def test_tasks_beyond_the_limit_are_held_and_invisible_to_the_relay_and_the_sweep(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    tasks = submit(new_uow, *(keyed(owner, limit=2, at_minute=n) for n in range(4)))

    assert [t.held for t in tasks] == [None, None, HoldReason.CONCURRENCY, HoldReason.CONCURRENCY]
    with new_uow() as uow:
        relayed = uow.tasks.list_undispatched(created_before=LATER, limit=10)
        uow.tasks.mark_dispatched([t.id for t in tasks], due_at=T0)  # even if marked
        overdue = uow.tasks.list_overdue(queue="default", due_before=LATER, limit=10)
        marked_again = uow.tasks.mark_pending_undispatched()
        uow.commit()
    assert {t.id for t in relayed} == {tasks[0].id, tasks[1].id}
    assert {t.id for t in overdue} == {tasks[0].id, tasks[1].id}
    assert marked_again == 2
    assert holders(new_uow) == 2


def test_a_run_ending_releases_the_next_held_task_by_priority_then_age(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    first = submit(new_uow, keyed(owner, limit=1))[0]
    old_low, new_high, old_normal = submit(
        new_uow,
        keyed(owner, limit=1, at_minute=1, priority=Priority.LOW),
        keyed(owner, limit=1, at_minute=3, priority=Priority.HIGH),
        keyed(owner, limit=1, at_minute=2),
    )
    run = start(new_uow, first)

    record_outcome(new_uow(), SystemClock(), run, Completed(result=1))

    assert statuses(new_uow, [new_high, old_normal, old_low]) == [
        ("pending", None),
        ("pending", "concurrency"),
        ("pending", "concurrency"),
    ]
    assert holders(new_uow) == 1


def test_a_retry_keeps_its_slot_and_a_held_task_cancelled_frees_nothing(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    first, second, third = submit(new_uow, *(keyed(owner, limit=1, at_minute=n) for n in range(3)))
    run = start(new_uow, first)

    record_outcome(new_uow(), SystemClock(), run, Retried("Flaky", "try again", countdown=0))
    CancelTask(uow=new_uow(), dispatcher=RecordingTaskDispatcher(), clock=SystemClock()).execute(
        owner, second.id
    )

    assert statuses(new_uow, [first, second, third]) == [
        ("pending", None),
        ("cancelled", None),
        ("pending", "concurrency"),
    ]
    assert holders(new_uow) == 1


@pytest.fixture
def slow_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the window between counting a key's holders and committing what follows from
    the count, so that without the key's lock racing transactions would count alike."""
    count = SqlAlchemyTaskRepository.count_slot_holders

    def counted_slowly(self: SqlAlchemyTaskRepository, key: str) -> int:
        holding = count(self, key)
        time.sleep(0.05)
        return holding

    monkeypatch.setattr(SqlAlchemyTaskRepository, "count_slot_holders", counted_slowly)


@pytest.mark.usefixtures("slow_count")
def test_two_runs_of_a_key_ending_at_the_same_instant_release_one_task_each(
    new_sql_uow: NewUnitOfWork,
) -> None:
    owner = save(new_sql_uow, make_user())
    for _ in range(5):  # rounds: each must release exactly as many as ended
        running = submit(new_sql_uow, keyed(owner, limit=2), keyed(owner, limit=2))
        held = submit(new_sql_uow, *(keyed(owner, limit=2, at_minute=n) for n in range(1, 5)))
        runs = [start(new_sql_uow, task) for task in running]
        barrier = threading.Barrier(len(runs))

        def end(run: TaskRun, barrier: threading.Barrier = barrier) -> Task:
            barrier.wait()
            return record_outcome(new_sql_uow(), SystemClock(), run, Completed(result=None))

        with ThreadPoolExecutor(len(runs)) as pool:
            ended = list(pool.map(end, runs))

        assert [t.status for t in ended] == [TaskStatus.COMPLETED] * 2
        assert holders(new_sql_uow) == 2
        assert sorted(statuses(new_sql_uow, held), key=str) == sorted(
            [("pending", None)] * 2 + [("pending", "concurrency")] * 2, key=str
        )
        clean_up(new_sql_uow, owner)


@pytest.mark.usefixtures("slow_count")
def test_racing_submissions_of_one_key_admit_no_more_than_its_limit(
    new_sql_uow: NewUnitOfWork,
) -> None:
    owner = save(new_sql_uow, make_user())
    threads = 8
    barrier = threading.Barrier(threads)

    def submit_one(n: int) -> Task:
        task = keyed(owner, limit=3, at_minute=n)
        barrier.wait()
        return submit(new_sql_uow, task)[0]

    with ThreadPoolExecutor(threads) as pool:
        submitted = list(pool.map(submit_one, range(threads)))

    assert sum(1 for t in submitted if t.held is None) == 3
    assert holders(new_sql_uow) == 3


def clean_up(new_uow: NewUnitOfWork, owner: User) -> None:
    """Cancel every pending task, so the next round starts with the key's slots free."""
    with new_uow() as uow:
        for task in uow.tasks.find(TaskQuery(owner_id=owner.id, status=TaskStatus.PENDING)):
            task.cancel(at=T0)
            uow.tasks.update(task)
        uow.commit()
    assert holders(new_uow) == 0


def test_queue_loads_count_unclaimed_running_and_held_tasks_per_queue(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    running, _unclaimed, _held = submit(
        new_uow, *(keyed(owner, limit=2, at_minute=n) for n in range(3))
    )
    start(new_uow, running)
    submit(new_uow, make_task(user=owner, priority=Priority.LOW, at=T0 - timedelta(minutes=5)))

    with new_uow() as uow:
        loads = {load.queue: load for load in uow.tasks.queue_loads()}

    assert set(loads) == {"default", "low_priority"}
    default = loads["default"]
    assert (default.unclaimed, default.running, default.held) == (1, 1, {"concurrency": 1})
    assert default.oldest_pending_at == T0 + timedelta(minutes=1)
    assert loads["low_priority"].oldest_pending_at == T0 - timedelta(minutes=5)

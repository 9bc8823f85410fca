"""The periodic jobs: reaping runs whose worker went silent, purging old tasks; and heartbeats."""

from __future__ import annotations

from datetime import timedelta
from typing import Self

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import DependencyUnavailableError
from application.publishing import TaskPublisher
from application.running.check_run import CheckRun
from application.running.outcomes import Completed
from application.running.record_heartbeat import RecordHeartbeat
from application.running.start_task import StartTask
from application.use_cases.cancel_task import CancelTask
from application.use_cases.purge_expired_tasks import PurgeExpiredTasks
from application.use_cases.reap_stale_tasks import WORKER_LOST, DatabaseUptime, ReapStaleTasks
from domain.errors import StaleRunError
from domain.task import Task, TaskStatus
from domain.user import User
from tests.factories import make_task, record_outcome


def reaper(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    *,
    uptime: DatabaseUptime | None = None,
) -> ReapStaleTasks:
    """The reaper on `uow`, silence counting after 10 s."""
    return ReapStaleTasks(
        uow=uow,
        publisher=publisher,
        clock=clock,
        stale_after=timedelta(seconds=10),
        batch_size=100,
        uptime=uptime if uptime is not None else DatabaseUptime(),
    )


@pytest.fixture
def reap(uow: InMemoryUnitOfWork, publisher: TaskPublisher, clock: FixedClock) -> ReapStaleTasks:
    return reaper(uow, publisher, clock)


def add(uow: InMemoryUnitOfWork, task: Task) -> Task:
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


def stored(uow: InMemoryUnitOfWork, task: Task) -> Task:
    with uow:
        return uow.tasks.get(task.id)


def test_a_silent_run_is_requeued_and_republished(
    reap: ReapStaleTasks,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
) -> None:
    task = add(uow, make_task(user=alice))
    StartTask(uow=uow, clock=clock).execute(task.id)
    clock.advance(seconds=11)

    reaped = reap.execute()

    row = stored(uow, task)
    assert [t.id for t in reaped] == [task.id]
    assert (row.status, row.attempts, row.run_token) == (TaskStatus.PENDING, 1, None)
    assert row.error is not None
    assert row.error.type == WORKER_LOST
    assert dispatcher.enqueued_ids == [task.id]


def test_a_run_that_keeps_beating_is_left_alone(
    reap: ReapStaleTasks, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    task = add(uow, make_task(user=alice))
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    for _ in range(3):
        clock.advance(seconds=8)
        RecordHeartbeat(uow=uow, clock=clock).execute(task.id, run.run_token)

    assert reap.execute() == []
    assert stored(uow, task).status is TaskStatus.RUNNING


def test_a_task_that_keeps_losing_its_worker_fails_after_its_last_attempt(
    reap: ReapStaleTasks, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    task = add(uow, make_task(user=alice, max_attempts=2))
    for _ in range(2):
        StartTask(uow=uow, clock=clock).execute(task.id)
        clock.advance(seconds=11)
        reap.execute()

    row = stored(uow, task)
    assert (row.status, row.attempts) == (TaskStatus.FAILED, 2)
    assert row.error is not None
    assert row.error.type == WORKER_LOST


def test_a_reaped_run_can_no_longer_write(
    reap: ReapStaleTasks, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    task = add(uow, make_task(user=alice))
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    clock.advance(seconds=11)
    reap.execute()

    with pytest.raises(StaleRunError):
        record_outcome(uow, clock, run, Completed("woke up too late"))
    with pytest.raises(StaleRunError):
        CheckRun(uow=uow).execute(task.id, run.run_token)


def test_cancelled_runs_are_seen_as_over_by_the_heartbeat(
    uow: InMemoryUnitOfWork, clock: FixedClock, dispatcher: RecordingTaskDispatcher, alice: User
) -> None:
    task = add(uow, make_task(user=alice))
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    CancelTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, task.id)

    with pytest.raises(StaleRunError):
        RecordHeartbeat(uow=uow, clock=clock).execute(task.id, run.run_token)


def test_purge_deletes_only_finished_tasks_past_retention(
    uow: InMemoryUnitOfWork, clock: FixedClock, dispatcher: RecordingTaskDispatcher, alice: User
) -> None:
    old_done, recent_done, still_pending = (add(uow, make_task(user=alice)) for _ in range(3))
    CancelTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, old_done.id)
    clock.advance(days=31)
    CancelTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, recent_done.id)
    purge = PurgeExpiredTasks(uow=uow, clock=clock, retention=timedelta(days=30), batch_size=10)

    deleted = purge.execute()

    assert deleted == 1
    assert set(uow.store.tasks) == {recent_done.id, still_pending.id}


class UnreachableUnitOfWork(InMemoryUnitOfWork):
    """Fails at the `with` line while `down`, as the SQLAlchemy one does."""

    down = False

    def __enter__(self) -> Self:
        if self.down:
            raise DependencyUnavailableError("the database is unavailable", dependency="database")
        return super().__enter__()


def test_silence_while_the_database_was_unreachable_is_not_taken_for_a_dead_worker(
    publisher: TaskPublisher, clock: FixedClock, alice: User
) -> None:
    uow = UnreachableUnitOfWork()
    reap = reaper(uow, publisher, clock, uptime=DatabaseUptime(since=None))
    task = add(uow, make_task(user=alice))
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    reap.execute()
    uow.down = True
    for _ in range(6):  # a minute of outage: no heartbeat can be written, no reaper can run
        clock.advance(seconds=10)
        with pytest.raises(DependencyUnavailableError):
            reap.execute()
    uow.down = False

    clock.advance(seconds=5)
    back_for_5s = reap.execute()
    RecordHeartbeat(uow=uow, clock=clock).execute(task.id, run.run_token)  # the worker is alive
    clock.advance(seconds=6)
    back_for_11s = reap.execute()

    assert back_for_5s == back_for_11s == []
    assert stored(uow, task).status is TaskStatus.RUNNING


def test_a_run_silent_for_as_long_as_the_database_was_reachable_is_reaped(
    publisher: TaskPublisher, clock: FixedClock, alice: User
) -> None:
    uow = UnreachableUnitOfWork()
    reap = reaper(uow, publisher, clock, uptime=DatabaseUptime(since=None))
    task = add(uow, make_task(user=alice))
    StartTask(uow=uow, clock=clock).execute(task.id)

    clock.advance(seconds=11)
    first_run = reap.execute()  # the reaper has only just started watching
    clock.advance(seconds=10)
    reaped = reap.execute()

    assert first_run == []
    assert [t.id for t in reaped] == [task.id]


class WritesThatWait(InMemoryUnitOfWork):
    """Each task write waits `seconds` on the clock, as behind an SQLite write lock."""

    def __init__(self, uow: InMemoryUnitOfWork, clock: FixedClock, seconds: float) -> None:
        super().__init__(uow.store)
        self.clock = clock
        self.seconds = seconds

    def __enter__(self) -> Self:
        entered = super().__enter__()
        update = self.tasks.update

        def waiting_update(task: Task) -> None:
            self.clock.advance(seconds=self.seconds)
            update(task)

        self.tasks.update = waiting_update  # type: ignore[method-assign]
        return entered


def test_a_reap_whose_writes_waited_for_the_database_takes_nothing_back(
    uow: InMemoryUnitOfWork, publisher: TaskPublisher, clock: FixedClock, alice: User
) -> None:
    task = add(uow, make_task(user=alice))
    StartTask(uow=uow, clock=clock).execute(task.id)
    clock.advance(seconds=11)  # silent: its heartbeats were held by the same lock
    uptime = DatabaseUptime()
    waiting = reaper(WritesThatWait(uow, clock, seconds=4), publisher, clock, uptime=uptime)

    reaped = waiting.execute()

    assert reaped == []
    assert stored(uow, task).status is TaskStatus.RUNNING
    assert uptime.since == clock.now()  # silence counts again only from the wait's end


class WriteLockHeld(InMemoryUnitOfWork):
    """A write lock held by someone else until `held_until`, as a VACUUM or an import holds
    SQLite's: reads go on; a transaction's first write waits for the lock, and gives up
    after the busy timeout."""

    BUSY_TIMEOUT = timedelta(seconds=5)

    def __init__(self, uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
        super().__init__(uow.store)
        self.clock = clock
        self.held_until = clock.now()

    def __enter__(self) -> Self:
        entered = super().__enter__()
        update = self.tasks.update

        def update_once_held(task: Task) -> None:
            self.lock_for_writing()
            update(task)

        self.tasks.update = update_once_held  # type: ignore[method-assign]
        self.holding = False
        return entered

    def lock_for_writing(self) -> None:
        if self.holding:
            return
        wait = self.held_until - self.clock.now()
        if wait > self.BUSY_TIMEOUT:
            self.clock.advance(seconds=self.BUSY_TIMEOUT.total_seconds())
            raise DependencyUnavailableError("the database is locked", dependency="database")
        if wait > timedelta(0):
            self.clock.advance(seconds=wait.total_seconds())
        self.holding = True


def test_a_reap_that_got_the_write_lock_in_the_last_second_of_a_long_hold_takes_nothing_back(
    publisher: TaskPublisher, clock: FixedClock, uow: InMemoryUnitOfWork, alice: User
) -> None:
    held = WriteLockHeld(uow, clock)
    # Uptime as Beat's, counted from its first run.
    reap = reaper(held, publisher, clock, uptime=DatabaseUptime(since=None))
    task = add(uow, make_task(user=alice))
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    start = clock.now()
    assert reap.execute() == []
    # Held for 30.5 s: the worker cannot heartbeat. The reaper runs every 5 s; its run at
    # 30 s gets the lock after half a second, with the heartbeat older than stale_after, 10 s
    # after the run that first found the database answering again (it only read).
    held.held_until = start + timedelta(seconds=30.5)
    results = []
    for tick in range(5, 50, 5):
        behind = start + timedelta(seconds=tick) - clock.now()
        clock.advance(seconds=max(behind.total_seconds(), 0))
        try:
            results.append(reap.execute())
        except DependencyUnavailableError:
            results.append(None)
        if clock.now() >= held.held_until:
            # The worker's held heartbeat went through with the lock, and it beats on.
            RecordHeartbeat(uow=uow, clock=clock).execute(task.id, run.run_token)

    assert [r for r in results if r] == []
    assert stored(uow, task).status is TaskStatus.RUNNING
    assert None in results  # the runs during the hold did wait and give up


def test_a_run_silent_for_as_long_as_writes_went_through_after_a_hold_is_reaped(
    publisher: TaskPublisher, clock: FixedClock, uow: InMemoryUnitOfWork, alice: User
) -> None:
    held = WriteLockHeld(uow, clock)
    reap = reaper(held, publisher, clock)
    task = add(uow, make_task(user=alice))
    StartTask(uow=uow, clock=clock).execute(task.id)
    held.held_until = clock.now() + timedelta(seconds=3)  # shorter than the busy timeout

    clock.advance(seconds=11)  # the hold is long over: its silence is the worker's
    reaped = reap.execute()

    assert [t.id for t in reaped] == [task.id]


def test_runs_further_apart_than_twice_stale_after_do_not_vouch_for_the_time_between() -> None:
    uptime = DatabaseUptime()
    first = FixedClock().now()
    stale_after = timedelta(seconds=10)

    uptime.writable(first, waited=False, longest_gap=2 * stale_after)
    later = first + timedelta(seconds=21)  # Beat was suspended or starved: nobody watched
    up_for = uptime.writable(later, waited=False, longest_gap=2 * stale_after)

    assert up_for == timedelta(0)

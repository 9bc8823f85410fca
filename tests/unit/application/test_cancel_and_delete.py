from __future__ import annotations

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import FailingDispatcher, RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.running.outcomes import Completed
from application.running.start_task import StartTask
from application.use_cases.cancel_task import CancelTask
from application.use_cases.delete_task import DeleteTask
from domain.errors import InvalidTransitionError, NotFoundError, StaleRunError
from domain.task import Task, TaskStatus
from domain.user import User
from tests.factories import make_task, record_outcome


@pytest.fixture
def task(uow: InMemoryUnitOfWork, alice: User) -> Task:
    task = make_task(user=alice)
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


@pytest.fixture
def cancel(
    uow: InMemoryUnitOfWork, dispatcher: RecordingTaskDispatcher, clock: FixedClock
) -> CancelTask:
    return CancelTask(uow=uow, dispatcher=dispatcher, clock=clock)


def status_of(uow: InMemoryUnitOfWork, task: Task) -> TaskStatus:
    with uow:
        return uow.tasks.get(task.id).status


def test_cancelling_a_pending_task_stores_cancelled_and_revokes_it(
    cancel: CancelTask,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
    task: Task,
) -> None:
    cancel.execute(alice, task.id)

    assert status_of(uow, task) is TaskStatus.CANCELLED
    assert dispatcher.revoked == [task.id]


def test_a_cancelled_pending_task_can_never_be_claimed(
    cancel: CancelTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, task: Task
) -> None:
    cancel.execute(alice, task.id)

    with pytest.raises(InvalidTransitionError):
        StartTask(uow=uow, clock=clock).execute(task.id)


def test_a_late_completion_never_overwrites_a_cancellation(
    cancel: CancelTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    cancel.execute(alice, task.id)

    with pytest.raises(StaleRunError):
        record_outcome(uow, clock, run, Completed("too late"))

    assert status_of(uow, task) is TaskStatus.CANCELLED


def test_cancel_decides_on_fresh_state_when_a_worker_wrote_in_between(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
    task: Task,
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    worker = InMemoryUnitOfWork(uow.store)

    class CompletingClock(FixedClock):
        """Completes the task from another unit of work right after the cancel reads it."""

        fired = False

        def now(self):  # type: ignore[no-untyped-def]
            if not self.fired:
                self.fired = True
                record_outcome(worker, clock, run, Completed(1))
            return clock.now()

    with pytest.raises(InvalidTransitionError):
        CancelTask(uow=uow, dispatcher=dispatcher, clock=CompletingClock()).execute(alice, task.id)

    assert status_of(uow, task) is TaskStatus.COMPLETED


def test_a_finished_task_cannot_be_cancelled(
    cancel: CancelTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    record_outcome(uow, clock, run, Completed(None))

    with pytest.raises(InvalidTransitionError):
        cancel.execute(alice, task.id)

    assert status_of(uow, task) is TaskStatus.COMPLETED


def test_nobody_but_the_owner_or_an_admin_can_cancel(
    cancel: CancelTask, uow: InMemoryUnitOfWork, alice: User, bob: User, admin: User, task: Task
) -> None:
    with pytest.raises(NotFoundError):
        cancel.execute(bob, task.id)
    assert status_of(uow, task) is TaskStatus.PENDING

    cancel.execute(admin, task.id)
    assert status_of(uow, task) is TaskStatus.CANCELLED


def test_cancel_succeeds_even_when_the_revoke_broadcast_fails(
    uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, task: Task
) -> None:
    CancelTask(uow=uow, dispatcher=FailingDispatcher(), clock=clock).execute(alice, task.id)

    assert status_of(uow, task) is TaskStatus.CANCELLED


def test_deleting_a_running_task_cancels_it_and_its_run_can_no_longer_write(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
    task: Task,
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)

    DeleteTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, task.id)

    assert task.id not in uow.store.tasks
    assert dispatcher.revoked == [task.id]
    with pytest.raises(NotFoundError):
        record_outcome(uow, clock, run, Completed(None))


def test_deleting_a_finished_task_needs_no_revoke(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
    task: Task,
) -> None:
    CancelTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(alice, task.id)
    dispatcher.revoked.clear()

    DeleteTask(uow=uow, dispatcher=FailingDispatcher(), clock=clock).execute(alice, task.id)

    assert task.id not in uow.store.tasks
    assert dispatcher.revoked == []


def test_strangers_cannot_delete(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    bob: User,
    task: Task,
) -> None:
    with pytest.raises(NotFoundError):
        DeleteTask(uow=uow, dispatcher=dispatcher, clock=clock).execute(bob, task.id)

    assert task.id in uow.store.tasks

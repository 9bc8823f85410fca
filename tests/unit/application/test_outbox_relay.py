"""The task table is its own outbox: failed publishes are picked up by the relay."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import FailingDispatcher, RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.use_cases.dispatch import TaskPublisher
from application.use_cases.relay_undispatched_tasks import RelayUndispatchedTasks
from application.use_cases.submit_task import SubmitTask
from domain.task import Task
from domain.user import User


@pytest.fixture
def undispatched(
    uow: InMemoryUnitOfWork, catalog: StaticTaskTypeCatalog, clock: FixedClock, alice: User
) -> list[Task]:
    submit = SubmitTask(
        uow=uow,
        catalog=catalog,
        clock=clock,
        max_active_tasks=100,
        publisher=TaskPublisher(uow=uow, dispatcher=FailingDispatcher()),
    )
    return [submit.execute(alice, name=f"t{n}", task_type="checksum") for n in range(3)]


def relay(
    uow: InMemoryUnitOfWork, dispatcher: object, clock: FixedClock, batch_size: int = 10
) -> RelayUndispatchedTasks:
    return RelayUndispatchedTasks(
        uow=uow,
        publisher=TaskPublisher(uow=uow, dispatcher=dispatcher),  # type: ignore[arg-type]
        clock=clock,
        grace=timedelta(seconds=30),
        batch_size=batch_size,
    )


def test_relay_publishes_tasks_whose_publish_failed_once_the_grace_period_passed(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    undispatched: list[Task],
) -> None:
    assert relay(uow, dispatcher, clock).execute() == 0

    clock.advance(seconds=31)
    published = relay(uow, dispatcher, clock).execute()

    assert published == 3
    assert set(dispatcher.enqueued_ids) == {t.id for t in undispatched}
    assert all(t.dispatched for t in uow.store.tasks.values())
    assert relay(uow, dispatcher, clock).execute() == 0


def test_relay_works_in_batches_oldest_first(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    undispatched: list[Task],
) -> None:
    clock.advance(minutes=5)

    relay(uow, dispatcher, clock, batch_size=2).execute()

    assert len(dispatcher.enqueued) == 2


def test_relay_leaves_tasks_alone_while_the_broker_is_still_down(
    uow: InMemoryUnitOfWork, clock: FixedClock, undispatched: list[Task]
) -> None:
    clock.advance(minutes=5)

    assert relay(uow, FailingDispatcher(), clock).execute() == 0

    assert not any(t.dispatched for t in uow.store.tasks.values())

"""The task table is its own outbox: failed publishes, and messages the broker lost, are
picked up by the relay."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Self

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import FailingDispatcher, RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import DependencyUnavailableError
from application.ports import TaskDispatcher
from application.publishing import RecordDispatchedNow, TaskPublisher
from application.running.start_task import StartTask
from application.use_cases.relay_undispatched_tasks import RelayUndispatchedTasks
from application.use_cases.submit_task import SubmitTask
from domain.task import Task
from domain.user import User

RELAY_LOGGER = "application.use_cases.relay_undispatched_tasks"


@pytest.fixture
def undispatched(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    clock: FixedClock,
    alice: User,
    publisher_with_broker_down: TaskPublisher,
) -> list[Task]:
    submit = SubmitTask(
        uow=uow,
        catalog=catalog,
        clock=clock,
        max_active_tasks=100,
        publisher=publisher_with_broker_down,
    )
    return [submit.execute(alice, name=f"t{n}", task_type="checksum") for n in range(3)]


@pytest.fixture
def dispatched(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    clock: FixedClock,
    alice: User,
    publisher: TaskPublisher,
) -> list[Task]:
    submit = SubmitTask(
        uow=uow, catalog=catalog, clock=clock, max_active_tasks=100, publisher=publisher
    )
    return [submit.execute(alice, name=f"t{n}", task_type="checksum") for n in range(3)]


def relay(
    uow: InMemoryUnitOfWork, dispatcher: TaskDispatcher, clock: FixedClock, batch_size: int = 10
) -> RelayUndispatchedTasks:
    return RelayUndispatchedTasks(
        uow=uow,
        publisher=TaskPublisher(
            dispatcher=dispatcher, recorder=RecordDispatchedNow(uow), clock=clock
        ),
        dispatcher=dispatcher,
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


class UnreachableUnitOfWork(InMemoryUnitOfWork):
    down = False

    def __enter__(self) -> Self:
        if self.down:
            raise DependencyUnavailableError("the database is unavailable", dependency="database")
        return super().__enter__()


class SilentBroker(RecordingTaskDispatcher):
    """Takes messages but cannot say whether it lost any (INFO refused, say)."""

    def new_epoch(self) -> str | None:
        raise DependencyUnavailableError("broker is down", dependency="broker")


def test_dispatched_tasks_are_left_alone_while_the_broker_keeps_its_messages(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    dispatched: list[Task],
) -> None:
    clock.advance(minutes=5)

    assert relay(uow, dispatcher, clock).execute() == 0

    assert len(dispatcher.enqueued) == len(dispatched)  # the submissions' own publishes


def test_pending_tasks_are_published_again_at_any_age_once_the_broker_lost_its_messages(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    dispatched: list[Task],
) -> None:
    running, *pending = dispatched
    StartTask(uow=uow, clock=clock).execute(running.id)
    dispatcher.enqueued.clear()
    dispatcher.lose_memory()
    clock.advance(seconds=1)  # far younger than the grace period

    published = relay(uow, dispatcher, clock).execute()

    assert published == 2
    assert set(dispatcher.enqueued_ids) == {t.id for t in pending}
    assert all(uow.store.tasks[t.id].dispatched for t in pending)
    assert dispatcher.new_epoch() is None  # recovered: the next run has nothing to do
    clock.advance(minutes=5)
    assert relay(uow, dispatcher, clock).execute() == 0


def test_a_new_epoch_with_pending_tasks_at_risk_is_a_warning(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    dispatched: list[Task],
    caplog: pytest.LogCaptureFixture,
) -> None:
    dispatcher.lose_memory()

    with caplog.at_level(logging.INFO, logger=RELAY_LOGGER):
        relay(uow, dispatcher, clock).execute()

    [record] = [r for r in caplog.records if "new epoch" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert f"{len(dispatched)} dispatched pending task(s)" in record.getMessage()


def test_a_new_epoch_with_no_pending_task_is_only_information(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dispatcher.lose_memory()  # a broker's first start, say, with nothing queued

    with caplog.at_level(logging.INFO, logger=RELAY_LOGGER):
        relay(uow, dispatcher, clock).execute()

    [record] = [r for r in caplog.records if "new epoch" in r.getMessage()]
    assert record.levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_tasks_beyond_the_recovering_batch_wait_for_the_grace_period(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    dispatched: list[Task],
) -> None:
    dispatcher.enqueued.clear()
    dispatcher.lose_memory()
    clock.advance(seconds=1)  # far younger than the grace period

    first = relay(uow, dispatcher, clock, batch_size=2).execute()
    second = relay(uow, dispatcher, clock, batch_size=2).execute()
    clock.advance(seconds=31)
    third = relay(uow, dispatcher, clock, batch_size=2).execute()

    assert (first, second, third) == (2, 0, 1)
    assert set(dispatcher.enqueued_ids) == {t.id for t in dispatched}


def test_a_database_outage_while_recovering_leaves_the_recovery_to_the_next_run(
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    dispatched: list[Task],
) -> None:
    flaky = UnreachableUnitOfWork(uow.store)
    dispatcher.enqueued.clear()
    dispatcher.lose_memory()
    clock.advance(seconds=1)  # far younger than the grace period
    flaky.down = True

    with pytest.raises(DependencyUnavailableError):
        relay(flaky, dispatcher, clock).execute()
    flaky.down = False
    published = relay(flaky, dispatcher, clock).execute()

    assert published == len(dispatched)
    assert set(dispatcher.enqueued_ids) == {t.id for t in dispatched}


def test_the_relay_goes_on_when_the_broker_cannot_say_whether_it_lost_messages(
    uow: InMemoryUnitOfWork, clock: FixedClock, undispatched: list[Task]
) -> None:
    broker = SilentBroker()
    clock.advance(minutes=5)

    assert relay(uow, broker, clock).execute() == len(undispatched)

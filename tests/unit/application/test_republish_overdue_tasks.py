"""The sweep for lost messages: overdue pending tasks are published again, as many per queue
as the queue lacks, and never while they may still be on their way."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.queue_depths import FixedQueueDepths
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import DependencyUnavailableError
from application.publishing import TaskPublisher
from application.running.start_task import StartTask
from application.use_cases.republish_overdue_tasks import RepublishOverdueTasks
from application.use_cases.submit_task import SubmitTask
from domain.task import Priority, Task
from domain.user import User

OVERDUE_AFTER = timedelta(seconds=60)


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    clock: FixedClock,
    publisher: TaskPublisher,
) -> SubmitTask:
    return SubmitTask(
        uow=uow, catalog=catalog, clock=clock, max_active_tasks=100, publisher=publisher
    )


def sweep(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    depths: FixedQueueDepths,
    batch_size: int = 100,
) -> RepublishOverdueTasks:
    return RepublishOverdueTasks(
        uow=uow,
        publisher=publisher,
        queue_depths=depths,
        clock=clock,
        overdue_after=OVERDUE_AFTER,
        batch_size=batch_size,
    )


def submitted(submit: SubmitTask, user: User, count: int, **options: object) -> list[Task]:
    return [
        submit.execute(user, name=f"t{n}", task_type="checksum", **options)  # type: ignore[arg-type]
        for n in range(count)
    ]


def test_tasks_unclaimed_past_the_bound_with_an_empty_queue_are_published_again(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    tasks = submitted(submit, alice, 3)
    dispatcher.enqueued.clear()
    clock.advance(seconds=61)

    published = sweep(uow, publisher, clock, FixedQueueDepths()).execute()

    assert published == 3
    assert sorted(map(str, dispatcher.enqueued_ids)) == sorted(str(t.id) for t in tasks)


def test_nothing_is_published_again_before_the_bound(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    submitted(submit, alice, 3)
    dispatcher.enqueued.clear()
    clock.advance(seconds=59)

    published = sweep(uow, publisher, clock, FixedQueueDepths()).execute()

    assert published == 0
    assert dispatcher.enqueued == []


def test_only_as_many_as_the_queue_lacks_are_published_again_oldest_first(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    oldest = submitted(submit, alice, 2)
    clock.advance(seconds=1)
    newer = submitted(submit, alice, 3)
    dispatcher.enqueued.clear()
    clock.advance(seconds=61)
    depths = FixedQueueDepths({oldest[0].queue: 3})

    published = sweep(uow, publisher, clock, depths).execute()

    assert published == 2
    assert set(dispatcher.enqueued_ids) == {t.id for t in oldest}
    assert not set(dispatcher.enqueued_ids) & {t.id for t in newer}


def test_a_backlog_that_holds_every_overdue_message_is_left_alone(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    tasks = submitted(submit, alice, 3)
    dispatcher.enqueued.clear()
    clock.advance(seconds=600)
    depths = FixedQueueDepths({tasks[0].queue: 50})

    published = sweep(uow, publisher, clock, depths).execute()

    assert published == 0


def test_each_queue_is_judged_by_its_own_depth(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    urgent = submitted(submit, alice, 2, priority=Priority.HIGH)
    submitted(submit, alice, 2, priority=Priority.NORMAL)
    dispatcher.enqueued.clear()
    clock.advance(seconds=61)

    sweep(uow, publisher, clock, FixedQueueDepths({"default": 2})).execute()

    assert {e.task_id for e in dispatcher.enqueued} == {t.id for t in urgent}
    assert {e.queue for e in dispatcher.enqueued} == {"high_priority"}


def test_a_republished_task_is_due_again_from_now_and_not_swept_twice_in_a_row(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    submitted(submit, alice, 1)
    clock.advance(seconds=61)
    first = sweep(uow, publisher, clock, FixedQueueDepths()).execute()
    clock.advance(seconds=5)

    second = sweep(uow, publisher, clock, FixedQueueDepths()).execute()
    clock.advance(seconds=60)
    third = sweep(uow, publisher, clock, FixedQueueDepths()).execute()

    assert (first, second, third) == (1, 0, 1)


def test_a_retry_counts_from_the_end_of_its_backoff(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    (task,) = submitted(submit, alice, 1)
    with uow:
        stored = uow.tasks.get(task.id)
    publisher.publish([stored], countdown=300)
    dispatcher.enqueued.clear()

    clock.advance(seconds=300 + 59)
    before = sweep(uow, publisher, clock, FixedQueueDepths()).execute()
    clock.advance(seconds=2)
    after = sweep(uow, publisher, clock, FixedQueueDepths()).execute()

    assert (before, after) == (0, 1)


def test_claimed_cancelled_and_undispatched_tasks_are_not_swept(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    publisher_with_broker_down: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    catalog: StaticTaskTypeCatalog,
    submit: SubmitTask,
    alice: User,
) -> None:
    running, cancelled = submitted(submit, alice, 2)
    StartTask(uow=uow, clock=clock).execute(running.id)
    with uow:
        task = uow.tasks.get(cancelled.id)
        task.cancel(at=clock.now())
        uow.tasks.update(task)
        uow.commit()
    SubmitTask(
        uow=uow,
        catalog=catalog,
        clock=clock,
        max_active_tasks=100,
        publisher=publisher_with_broker_down,
    ).execute(alice, name="never published", task_type="checksum")
    dispatcher.enqueued.clear()
    clock.advance(seconds=600)

    published = sweep(uow, publisher, clock, FixedQueueDepths()).execute()

    assert published == 0


def test_a_broker_that_cannot_be_read_publishes_nothing_and_says_so(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    submitted(submit, alice, 2)
    dispatcher.enqueued.clear()
    clock.advance(seconds=61)

    with pytest.raises(DependencyUnavailableError):
        sweep(uow, publisher, clock, FixedQueueDepths(reachable=False)).execute()

    assert dispatcher.enqueued == []


def test_at_most_a_batch_per_queue_and_run(
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    dispatcher: RecordingTaskDispatcher,
    submit: SubmitTask,
    alice: User,
) -> None:
    submitted(submit, alice, 5)
    dispatcher.enqueued.clear()
    clock.advance(seconds=61)

    published = sweep(uow, publisher, clock, FixedQueueDepths(), batch_size=2).execute()

    assert published == 2

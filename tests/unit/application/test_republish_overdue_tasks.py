"""The sweep for lost messages: overdue pending tasks are published again, as many per queue
as the queue lacks, and never while they may still be on their way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

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
from domain.task import Priority, Task, TaskId
from domain.user import User

OVERDUE_AFTER = timedelta(seconds=60)


@dataclass
class Sweeping:
    """Tasks submitted by alice on a fixed clock, and the sweep over them."""

    uow: InMemoryUnitOfWork
    publisher: TaskPublisher
    clock: FixedClock
    dispatcher: RecordingTaskDispatcher
    submit: SubmitTask
    alice: User

    def submitted(self, count: int, **options: Any) -> list[Task]:
        return [
            self.submit.execute(self.alice, name=f"t{n}", task_type="checksum", **options)
            for n in range(count)
        ]

    def later(self, seconds: float) -> None:
        """Time passes; what was published so far is forgotten by the recording broker."""
        self.dispatcher.enqueued.clear()
        self.clock.advance(seconds=seconds)

    def sweep(self, depths: FixedQueueDepths | None = None, batch_size: int = 100) -> int:
        return RepublishOverdueTasks(
            uow=self.uow,
            publisher=self.publisher,
            queue_depths=depths or FixedQueueDepths(),
            clock=self.clock,
            overdue_after=OVERDUE_AFTER,
            batch_size=batch_size,
        ).execute()

    @property
    def republished(self) -> list[TaskId]:
        return self.dispatcher.enqueued_ids


@pytest.fixture
def world(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    clock: FixedClock,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
) -> Sweeping:
    submit = SubmitTask(
        uow=uow, catalog=catalog, clock=clock, max_active_tasks=100, publisher=publisher
    )
    return Sweeping(uow, publisher, clock, dispatcher, submit, alice)


def test_tasks_unclaimed_past_the_bound_with_an_empty_queue_are_published_again(
    world: Sweeping,
) -> None:
    tasks = world.submitted(3)
    world.later(seconds=61)

    published = world.sweep()

    assert published == 3
    assert sorted(map(str, world.republished)) == sorted(str(t.id) for t in tasks)


def test_nothing_is_published_again_before_the_bound(world: Sweeping) -> None:
    world.submitted(3)
    world.later(seconds=59)

    assert world.sweep() == 0
    assert world.republished == []


def test_only_as_many_as_the_queue_lacks_are_published_again_oldest_first(
    world: Sweeping,
) -> None:
    oldest = world.submitted(2)
    world.clock.advance(seconds=1)
    newer = world.submitted(3)
    world.later(seconds=61)

    published = world.sweep(FixedQueueDepths({oldest[0].queue: 3}))

    assert published == 2
    assert set(world.republished) == {t.id for t in oldest}
    assert not set(world.republished) & {t.id for t in newer}


def test_a_backlog_that_holds_every_overdue_message_is_left_alone(world: Sweeping) -> None:
    tasks = world.submitted(3)
    world.later(seconds=600)

    assert world.sweep(FixedQueueDepths({tasks[0].queue: 50})) == 0


def test_each_queue_is_judged_by_its_own_depth(world: Sweeping) -> None:
    urgent = world.submitted(2, priority=Priority.HIGH)
    world.submitted(2, priority=Priority.NORMAL)
    world.later(seconds=61)

    world.sweep(FixedQueueDepths({"default": 2}))

    assert set(world.republished) == {t.id for t in urgent}
    assert {e.queue for e in world.dispatcher.enqueued} == {"high_priority"}


def test_a_republished_task_is_due_again_from_now_and_not_swept_twice_in_a_row(
    world: Sweeping,
) -> None:
    world.submitted(1)
    world.clock.advance(seconds=61)
    first = world.sweep()
    world.clock.advance(seconds=5)

    second = world.sweep()
    world.clock.advance(seconds=60)
    third = world.sweep()

    assert (first, second, third) == (1, 0, 1)


def test_a_retry_counts_from_the_end_of_its_backoff(world: Sweeping) -> None:
    (task,) = world.submitted(1)
    with world.uow:
        stored = world.uow.tasks.get(task.id)
    world.publisher.publish([stored], countdown=300)

    world.later(seconds=300 + 59)
    before = world.sweep()
    world.clock.advance(seconds=2)
    after = world.sweep()

    assert (before, after) == (0, 1)


def test_claimed_cancelled_and_undispatched_tasks_are_not_swept(
    world: Sweeping, catalog: StaticTaskTypeCatalog, publisher_with_broker_down: TaskPublisher
) -> None:
    running, cancelled = world.submitted(2)
    StartTask(uow=world.uow, clock=world.clock).execute(running.id)
    with world.uow as uow:
        task = uow.tasks.get(cancelled.id)
        task.cancel(at=world.clock.now())
        uow.tasks.update(task)
        uow.commit()
    SubmitTask(
        uow=world.uow,
        catalog=catalog,
        clock=world.clock,
        max_active_tasks=100,
        publisher=publisher_with_broker_down,
    ).execute(world.alice, name="never published", task_type="checksum")
    world.later(seconds=600)

    assert world.sweep() == 0


def test_a_broker_that_cannot_be_read_publishes_nothing_and_says_so(world: Sweeping) -> None:
    world.submitted(2)
    world.later(seconds=61)

    with pytest.raises(DependencyUnavailableError):
        world.sweep(FixedQueueDepths(reachable=False))

    assert world.republished == []


def test_at_most_a_batch_per_queue_and_run(world: Sweeping) -> None:
    world.submitted(5)
    world.later(seconds=61)

    assert world.sweep(batch_size=2) == 2

"""Fair sharing of a crowded queue between owners, and rate limits: tasks held back at
submission, released by ReleaseHeldTasks, and what a held task says it waits for."""

from __future__ import annotations

from collections import Counter

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.queue_backlogs import FixedQueueBacklogs
from adapters.in_memory.queue_depths import FixedQueueDepths
from adapters.in_memory.rate_limiter import InMemoryRateLimiter
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.fair_share import FairShare
from application.ports import QueueBacklog, TaskTypeSpec
from application.publishing import TaskPublisher
from application.use_cases.cancel_task import CancelTask
from application.use_cases.explain_wait import ExplainWait, WaitReason
from application.use_cases.release_held_tasks import ReleaseHeldTasks
from application.use_cases.submit_task import SubmitTask
from application.use_cases.update_user import UpdateUser
from domain.errors import ValidationError
from domain.flow import FairShareTurns, HoldReason, RateLimit, ReleaseWindows
from domain.task import Task, TaskStatus
from domain.user import User
from tests.unit.conftest import TASK_TYPES

THRESHOLD = 4


class Seconds:
    """A monotonic clock a test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def catalog() -> StaticTaskTypeCatalog:
    limited = TaskTypeSpec(name="call_api", description="calls", rate_limit=RateLimit.parse("10/s"))
    return StaticTaskTypeCatalog([*TASK_TYPES, limited])


@pytest.fixture
def backlogs() -> FixedQueueBacklogs:
    return FixedQueueBacklogs()


@pytest.fixture
def depths() -> FixedQueueDepths:
    return FixedQueueDepths()


@pytest.fixture
def seconds() -> Seconds:
    return Seconds()


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
    backlogs: FixedQueueBacklogs,
) -> SubmitTask:
    return SubmitTask(
        uow=uow,
        catalog=catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=10_000,
        fair_share=FairShare(backlogs, THRESHOLD),
    )


@pytest.fixture
def release(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
    depths: FixedQueueDepths,
    seconds: Seconds,
) -> ReleaseHeldTasks:
    return ReleaseHeldTasks(
        uow=uow,
        publisher=publisher,
        queue_depths=depths,
        rate_limiter=InMemoryRateLimiter(seconds),
        catalog=catalog,
        clock=clock,
        turns=FairShareTurns(),
        windows=ReleaseWindows(THRESHOLD, THRESHOLD),
        horizon=1.0,
        batch_size=500,
    )


def crowd(backlogs: FixedQueueBacklogs, queue: str = "default") -> None:
    backlogs.backlogs[queue] = QueueBacklog(depth=THRESHOLD + 1)


def submit_many(
    submit: SubmitTask, clock: FixedClock, owner: User, n: int, **kw: object
) -> list[Task]:
    tasks: list[Task] = []
    for i in range(n):
        clock.advance(milliseconds=1)
        task_type = str(kw.get("task_type", "sleep"))
        kwargs = {"seconds": 0} if task_type == "sleep" else {}
        tasks.append(submit.execute(owner, name=f"t{i}", task_type=task_type, kwargs=kwargs))
    return tasks


def owners_of(
    uow: InMemoryUnitOfWork, dispatcher: RecordingTaskDispatcher, alice: User
) -> list[str]:
    with uow:
        return [
            "a" if uow.tasks.get(e.task_id).user_id == alice.id else "b"
            for e in dispatcher.enqueued
        ]


def test_an_idle_queue_publishes_at_once_reading_only_the_last_backlog(
    submit: SubmitTask,
    backlogs: FixedQueueBacklogs,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
) -> None:
    task = submit.execute(alice, name="t", task_type="sleep", kwargs={"seconds": 0})

    assert task.held is None
    assert dispatcher.enqueued_ids == [task.id]
    assert backlogs.asked == 1


def test_a_crowded_queue_holds_new_tasks_in_the_database_and_others_queues_are_not_held(
    submit: SubmitTask,
    backlogs: FixedQueueBacklogs,
    dispatcher: RecordingTaskDispatcher,
    uow: InMemoryUnitOfWork,
    alice: User,
) -> None:
    crowd(backlogs)

    held = submit.execute(alice, name="t", task_type="sleep", kwargs={"seconds": 0})
    other_queue = submit.execute(alice, name="c", task_type="checksum")

    with uow:
        assert uow.tasks.get(held.id).held is HoldReason.FAIR_SHARE
    assert dispatcher.enqueued_ids == [other_queue.id]


def test_tasks_already_held_for_fair_sharing_hold_new_ones_even_below_the_threshold(
    submit: SubmitTask, backlogs: FixedQueueBacklogs, alice: User
) -> None:
    backlogs.backlogs["default"] = QueueBacklog(depth=0, held=3)

    task = submit.execute(alice, name="t", task_type="sleep", kwargs={"seconds": 0})

    assert task.held is HoldReason.FAIR_SHARE


def test_a_single_task_of_another_owner_overtakes_a_long_backlog(
    submit: SubmitTask,
    release: ReleaseHeldTasks,
    backlogs: FixedQueueBacklogs,
    dispatcher: RecordingTaskDispatcher,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    bob: User,
) -> None:
    crowd(backlogs)
    submit_many(submit, clock, alice, 50)
    (bobs,) = submit_many(submit, clock, bob, 1)

    released = release.execute()  # the broker's list is empty: room for THRESHOLD

    assert released == THRESHOLD
    assert bobs.id in dispatcher.enqueued_ids[:2]
    with uow:
        assert uow.tasks.get(bobs.id).held is None


def test_small_rounds_take_turns_instead_of_the_first_owner_winning_each(
    submit: SubmitTask,
    release: ReleaseHeldTasks,
    backlogs: FixedQueueBacklogs,
    depths: FixedQueueDepths,
    dispatcher: RecordingTaskDispatcher,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    bob: User,
) -> None:
    crowd(backlogs)
    submit_many(submit, clock, alice, 10)
    submit_many(submit, clock, bob, 10)
    depths.waiting["default"] = THRESHOLD - 1  # one release per run

    for _ in range(6):
        release.execute()

    assert owners_of(uow, dispatcher, alice) in (["a", "b"] * 3, ["b", "a"] * 3)


def test_weights_share_the_releases_in_proportion(
    submit: SubmitTask,
    release: ReleaseHeldTasks,
    backlogs: FixedQueueBacklogs,
    depths: FixedQueueDepths,
    dispatcher: RecordingTaskDispatcher,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    bob: User,
    admin: User,
) -> None:
    UpdateUser(uow).execute(admin, alice.id, share_weight=3)
    crowd(backlogs)
    submit_many(submit, clock, alice, 40)
    submit_many(submit, clock, bob, 40)
    depths.waiting["default"] = THRESHOLD - 2  # two releases per run

    for _ in range(10):
        release.execute()

    assert Counter(owners_of(uow, dispatcher, alice)) == {"a": 15, "b": 5}


def test_a_share_weight_is_1_to_100(uow: InMemoryUnitOfWork, alice: User, admin: User) -> None:
    for weight in (0, 101):
        with pytest.raises(ValidationError) as error:
            UpdateUser(uow).execute(admin, alice.id, share_weight=weight)
        assert error.value.field == "share_weight"


def test_a_full_broker_list_releases_nothing(
    submit: SubmitTask,
    release: ReleaseHeldTasks,
    backlogs: FixedQueueBacklogs,
    depths: FixedQueueDepths,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    crowd(backlogs)
    submit_many(submit, clock, alice, 3)
    depths.waiting["default"] = THRESHOLD

    assert release.execute() == 0
    assert dispatcher.enqueued == []


def test_a_held_task_cancelled_is_not_released_and_takes_no_other_tasks_turn(
    submit: SubmitTask,
    release: ReleaseHeldTasks,
    backlogs: FixedQueueBacklogs,
    dispatcher: RecordingTaskDispatcher,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    publisher: TaskPublisher,
    alice: User,
    bob: User,
) -> None:
    crowd(backlogs)
    alices = submit_many(submit, clock, alice, 6)
    (bobs,) = submit_many(submit, clock, bob, 1)
    CancelTask(uow=uow, dispatcher=dispatcher, clock=clock, publisher=publisher).execute(
        bob, bobs.id
    )

    assert release.execute() == THRESHOLD

    assert dispatcher.enqueued_ids == [t.id for t in alices[:THRESHOLD]]
    with uow:
        assert uow.tasks.get(bobs.id).status is TaskStatus.CANCELLED


def test_a_rate_limited_type_is_held_at_submission_and_released_spaced_by_its_interval(
    submit: SubmitTask,
    release: ReleaseHeldTasks,
    dispatcher: RecordingTaskDispatcher,
    seconds: Seconds,
    clock: FixedClock,
    alice: User,
) -> None:
    tasks = submit_many(submit, clock, alice, 25, task_type="call_api")
    assert {t.held for t in tasks} == {HoldReason.RATE_LIMIT}
    assert dispatcher.enqueued == []

    first = release.execute()  # permits within the 1 s horizon: at 0, 0.1, ... 0.9 s
    seconds.now += 1.0
    second = release.execute()  # the next is free 1 s after the first: now

    assert (first, second) == (10, 10)
    countdowns = [e.countdown or 0.0 for e in dispatcher.enqueued]
    assert countdowns == pytest.approx([0.1 * i for i in range(10)] * 2, abs=1e-6)
    assert dispatcher.enqueued_ids == [t.id for t in tasks[:20]]


def test_waiting_says_fair_share_or_rate_limit_with_the_tasks_ahead(
    submit: SubmitTask,
    backlogs: FixedQueueBacklogs,
    catalog: StaticTaskTypeCatalog,
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
) -> None:
    crowd(backlogs)
    shared = submit_many(submit, clock, alice, 3)
    limited = submit_many(submit, clock, alice, 2, task_type="call_api")
    explain = ExplainWait(uow, clock, catalog)

    _, fair = explain.execute(alice, shared[2].id)
    _, rate = explain.execute(alice, limited[1].id)

    assert fair is not None
    assert (fair.reason, fair.position) == (WaitReason.FAIR_SHARE, 2)
    assert rate is not None
    assert (rate.reason, rate.position, rate.rate_limit) == (WaitReason.RATE_LIMIT, 1, "10/s")


def test_a_task_of_a_type_that_lost_its_rate_limit_is_released_at_once(
    uow: InMemoryUnitOfWork,
    release: ReleaseHeldTasks,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    task = Task.submit(name="t", task_type="sleep", user_id=alice.id, at=clock.now())
    task.hold(HoldReason.RATE_LIMIT)
    with uow:
        uow.tasks.add(task)
        uow.commit()

    assert release.execute() == 1
    assert dispatcher.enqueued_ids == [task.id]


def test_a_burst_between_two_readings_is_held_once_it_fills_the_threshold(
    submit: SubmitTask, dispatcher: RecordingTaskDispatcher, clock: FixedClock, alice: User
) -> None:
    tasks = submit_many(submit, clock, alice, THRESHOLD + 3)  # the reading still says idle

    assert dispatcher.enqueued_ids == [t.id for t in tasks[:THRESHOLD]]
    assert {t.held for t in tasks[THRESHOLD:]} == {HoldReason.FAIR_SHARE}

"""Delayed tasks wait in the database; schedules fire each fire time once, under a lease."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Self

import pytest

from adapters.cron.calendar import CronsimCalendar
from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.lease_lock import InMemoryLeaseLock, LeaseBoard
from adapters.in_memory.queue_depths import FixedQueueDepths
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.errors import FencedOffError
from application.ports import TaskQuery
from application.publishing import TaskPublisher
from application.scheduling import ScheduleRules
from application.use_cases.claim_scheduler_fence import ClaimSchedulerFence
from application.use_cases.create_schedule import CreateSchedule
from application.use_cases.fire_due_schedules import FireDueSchedules
from application.use_cases.pause_schedule import PauseSchedule, ResumeSchedule
from application.use_cases.relay_undispatched_tasks import RelayUndispatchedTasks
from application.use_cases.release_due_tasks import ReleaseDueTasks
from application.use_cases.republish_overdue_tasks import RepublishOverdueTasks
from application.use_cases.submit_task import SubmitTask
from domain.errors import ConcurrencyConflictError, ConflictError, ValidationError
from domain.schedule import FireOutcome, Interval, Overlap, Schedule, ScheduleId, TaskTemplate
from domain.user import User
from entrypoints.worker.scheduler import SchedulerLoop


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
) -> SubmitTask:
    return SubmitTask(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=100
    )


@pytest.fixture
def rules(catalog: StaticTaskTypeCatalog) -> ScheduleRules:
    return ScheduleRules(catalog=catalog, calendar=CronsimCalendar(), min_interval_seconds=60)


def fire_due(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
) -> FireDueSchedules:
    return FireDueSchedules(
        uow=uow,
        rules=rules,
        publisher=publisher,
        dispatcher=dispatcher,
        clock=clock,
        misfire_grace=timedelta(seconds=60),
        max_active_tasks=100,
        batch_size=100,
    )


def every_minute(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    clock: FixedClock,
    owner: User,
    overlap: Overlap = Overlap.ALLOW,
) -> Schedule:
    return CreateSchedule(uow=uow, rules=rules, clock=clock, max_schedules=10).execute(
        owner,
        name="each minute",
        template=TaskTemplate("tick", "sleep", kwargs={"seconds": 1}),
        trigger=Interval(60),
        overlap=overlap,
    )


def test_a_delayed_task_is_not_published_relayed_or_swept_before_its_run_at(
    submit: SubmitTask,
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    task = submit.execute(
        alice,
        name="later",
        task_type="sleep",
        kwargs={"seconds": 1},
        run_at=clock.now() + timedelta(hours=1),
    )
    clock.advance(minutes=30)
    relay = RelayUndispatchedTasks(
        uow=uow,
        publisher=publisher,
        dispatcher=dispatcher,
        clock=clock,
        grace=timedelta(seconds=10),
        batch_size=100,
    )
    sweep = RepublishOverdueTasks(
        uow=uow,
        publisher=publisher,
        queue_depths=FixedQueueDepths({}),
        clock=clock,
        overdue_after=timedelta(seconds=60),
        batch_size=100,
    )
    release = ReleaseDueTasks(uow=uow, publisher=publisher, clock=clock, batch_size=100)

    assert (relay.execute(), sweep.execute(), release.execute()) == (0, 0, 0)
    assert dispatcher.enqueued == []

    clock.advance(minutes=30)
    assert release.execute() == 1
    assert [e.task_id for e in dispatcher.enqueued] == [task.id]
    with uow:
        stored = uow.tasks.get(task.id)
    assert stored.dispatched
    assert stored.due_at == clock.now()


def test_a_run_at_in_the_past_runs_now_and_more_than_a_year_ahead_is_refused(
    submit: SubmitTask,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    submit.execute(
        alice,
        name="now",
        task_type="sleep",
        kwargs={"seconds": 1},
        run_at=clock.now() - timedelta(minutes=5),
    )
    assert len(dispatcher.enqueued) == 1

    with pytest.raises(ValidationError) as caught:
        submit.execute(
            alice,
            name="far",
            task_type="sleep",
            kwargs={"seconds": 1},
            run_at=clock.now() + timedelta(days=366),
        )
    assert caught.value.field == "run_at"


def test_a_waiting_task_can_be_moved_but_not_once_published(
    submit: SubmitTask,
    uow: InMemoryUnitOfWork,
    publisher: TaskPublisher,
    clock: FixedClock,
    alice: User,
) -> None:
    task = submit.execute(
        alice,
        name="later",
        task_type="sleep",
        kwargs={"seconds": 1},
        run_at=clock.now() + timedelta(hours=1),
    )
    with uow:
        waiting = uow.tasks.get(task.id)
        waiting.move_run_at(clock.now() + timedelta(seconds=1), at=clock.now())
        uow.tasks.update(waiting)
        uow.commit()
    clock.advance(seconds=2)
    ReleaseDueTasks(uow=uow, publisher=publisher, clock=clock, batch_size=10).execute()

    with uow:
        published = uow.tasks.get(task.id)
    with pytest.raises(ConflictError):
        published.move_run_at(clock.now() + timedelta(hours=1), at=clock.now())


def test_two_schedulers_firing_the_same_fire_time_record_it_once(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(uow, rules, clock, alice)
    clock.advance(seconds=61)
    first = fire_due(uow, rules, publisher, dispatcher, clock)
    second = fire_due(uow, rules, publisher, dispatcher, clock)

    assert first.execute(fence=1) == 1
    assert second.execute(fence=1) == 0  # the schedule's next fire time moved on

    with uow:
        fires = uow.schedule_fires.find(schedule.id, before=None, limit=10)
        runs = uow.tasks.find(TaskQuery(schedule_id=schedule.id))
    assert [f.outcome for f in fires] == [FireOutcome.FIRED]
    assert [r.fire_time for r in runs] == [fires[0].fire_time]


def test_a_scheduler_with_an_older_lease_than_the_last_writer_is_fenced_off(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    every_minute(uow, rules, clock, alice)
    clock.advance(seconds=61)
    fire_due(uow, rules, publisher, dispatcher, clock).execute(fence=2)
    clock.advance(seconds=60)

    with pytest.raises(FencedOffError):
        fire_due(uow, rules, publisher, dispatcher, clock).execute(fence=1)
    assert len(dispatcher.enqueued) == 1


def test_overlap_skip_records_a_skip_while_the_previous_run_is_unfinished(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(uow, rules, clock, alice, overlap=Overlap.SKIP)
    tick = fire_due(uow, rules, publisher, dispatcher, clock)
    clock.advance(seconds=61)
    tick.execute(fence=1)
    clock.advance(seconds=60)
    tick.execute(fence=1)

    with uow:
        fires = uow.schedule_fires.find(schedule.id, before=None, limit=10)
    assert [(f.outcome, f.reason) for f in fires] == [
        (FireOutcome.SKIPPED, "overlap=skip"),
        (FireOutcome.FIRED, None),
    ]


def test_fire_times_passed_during_a_long_outage_are_recorded_missed(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(uow, rules, clock, alice)
    clock.advance(minutes=5, seconds=1)
    fire_due(uow, rules, publisher, dispatcher, clock).execute(fence=1)

    with uow:
        fires = uow.schedule_fires.find(schedule.id, before=None, limit=10)
    assert [f.outcome for f in fires] == [FireOutcome.FIRED] + [FireOutcome.MISSED] * 4
    assert len({f.fire_time for f in fires}) == 5


def test_a_paused_schedule_does_not_fire_and_resumed_owes_nothing_for_the_pause(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(uow, rules, clock, alice)
    tick = fire_due(uow, rules, publisher, dispatcher, clock)
    PauseSchedule(uow=uow, clock=clock).execute(alice, schedule.id)
    clock.advance(minutes=3)
    assert tick.execute(fence=1) == 0

    resumed = ResumeSchedule(uow=uow, rules=rules, clock=clock).execute(alice, schedule.id)
    assert resumed.next_fire_at is not None
    assert resumed.next_fire_at > clock.now()
    clock.advance(seconds=60)
    assert tick.execute(fence=1) == 1


class FiredBetweenReadAndWrite(InMemoryUnitOfWork):
    """The scheduler fires the schedule right after a client's transaction has read it, the
    first `times` times: that transaction's write then finds a newer version."""

    def __init__(self, uow: InMemoryUnitOfWork, fire: Callable[[], object], times: int) -> None:
        super().__init__(uow.store)
        self.fire = fire
        self.times = times

    def __enter__(self) -> Self:
        entered = super().__enter__()
        get = self.schedules.get

        def get_then_fire(schedule_id: ScheduleId) -> Schedule:
            schedule = get(schedule_id)
            if self.times:
                self.times -= 1
                self.fire()
            return schedule

        self.schedules.get = get_then_fire  # type: ignore[method-assign]
        return entered


@pytest.fixture
def fired_every_minute(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> tuple[Schedule, Callable[[], int]]:
    """Alice's schedule firing every minute, and the scheduler firing its next fire time."""
    schedule = every_minute(uow, rules, clock, alice)
    tick = fire_due(uow, rules, publisher, dispatcher, clock)

    def fire() -> int:
        clock.advance(seconds=60)
        return tick.execute(fence=1)

    return schedule, fire


@pytest.mark.parametrize("fires", [1, 2])
def test_pausing_and_resuming_outlast_fires_between_their_read_and_their_write(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    clock: FixedClock,
    alice: User,
    fired_every_minute: tuple[Schedule, Callable[[], int]],
    fires: int,
) -> None:
    schedule, fire = fired_every_minute

    paused = PauseSchedule(
        uow=FiredBetweenReadAndWrite(uow, fire, times=fires), clock=clock
    ).execute(alice, schedule.id)
    resumed = ResumeSchedule(
        uow=FiredBetweenReadAndWrite(uow, fire, times=0), rules=rules, clock=clock
    ).execute(alice, schedule.id)

    assert paused.paused
    assert not resumed.paused
    with uow:
        assert len(uow.schedule_fires.find(schedule.id, before=None, limit=10)) == fires


def test_a_schedule_fired_between_read_and_write_on_every_try_is_a_conflict(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    alice: User,
    fired_every_minute: tuple[Schedule, Callable[[], int]],
) -> None:
    schedule, fire = fired_every_minute

    pause = PauseSchedule(uow=FiredBetweenReadAndWrite(uow, fire, times=99), clock=clock)

    with pytest.raises(ConcurrencyConflictError):
        pause.execute(alice, schedule.id)
    with uow:
        assert not uow.schedules.get(schedule.id).paused


def test_a_non_admin_interval_below_the_minimum_is_refused_naming_it(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    clock: FixedClock,
    alice: User,
    admin: User,
) -> None:
    create = CreateSchedule(uow=uow, rules=rules, clock=clock, max_schedules=10)
    template = TaskTemplate("tick", "sleep", kwargs={"seconds": 1})
    with pytest.raises(ValidationError) as caught:
        create.execute(alice, name="fast", template=template, trigger=Interval(5))
    assert caught.value.field == "interval_seconds"
    assert create.execute(admin, name="fast", template=template, trigger=Interval(5))


def test_an_invalid_task_template_is_refused_naming_its_field(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    clock: FixedClock,
    alice: User,
) -> None:
    with pytest.raises(ValidationError) as caught:
        CreateSchedule(uow=uow, rules=rules, clock=clock, max_schedules=10).execute(
            alice, name="bad", template=TaskTemplate("x", "nope"), trigger=Interval(60)
        )
    assert caught.value.field == "task.task_type"


# --- the lease lock (in-memory twin) ---------------------------------------------------------


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_holder_at_a_time_and_a_takeover_after_expiry_gets_a_newer_generation() -> None:
    time = Monotonic()
    board = LeaseBoard(monotonic=time)
    first, second = (InMemoryLeaseLock(board, "scheduler", ttl=5) for _ in range(2))

    held = first.hold()
    assert held is not None
    assert second.hold() is None
    time.now += 4
    assert first.hold() == held
    assert second.hold() is None
    time.now += 6  # the first stopped renewing (died)
    taken = second.hold()
    assert taken is not None
    assert taken.generation > held.generation
    assert first.hold() is None


def test_the_lease_expiry_ignores_the_wall_clock() -> None:
    # RedBeat stopped electing a leader after a DST change: its expiry read the wall clock.
    # Leases here expire on a monotonic clock (Redis: its own PX timer) only.
    time = Monotonic()
    board = LeaseBoard(monotonic=time)
    first, second = (InMemoryLeaseLock(board, "scheduler", ttl=5) for _ in range(2))
    assert first.hold() is not None
    time.now += 5.001
    assert second.hold() is not None


def test_a_lock_service_that_lost_its_counter_neither_stalls_the_new_holder_nor_lets_the_old_write(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    # Redis flushed, or restarted without persistence: the lease's generation counter starts
    # again from 1, below the fences the database holds from a long history of leases.
    board = LeaseBoard(monotonic=Monotonic(), generations={"scheduler": 1000})

    def loop() -> SchedulerLoop:
        return SchedulerLoop(
            lease=InMemoryLeaseLock(board, "scheduler", ttl=5),
            release_due_tasks=lambda: ReleaseDueTasks(
                uow=uow, publisher=publisher, clock=clock, batch_size=100
            ),
            fire_due_schedules=lambda: fire_due(uow, rules, publisher, dispatcher, clock),
            claim_fence=lambda: ClaimSchedulerFence(uow=uow),
            tick_seconds=1,
        )

    schedule = every_minute(uow, rules, clock, alice)
    old, new = loop(), loop()
    clock.advance(seconds=60)
    assert old.run_once()  # lease 1001: the first fire
    board.holders.clear()
    board.generations.clear()
    clock.advance(seconds=60)
    assert new.run_once()  # lease 1 again, yet it fires: its fence is claimed above 1001
    clock.advance(seconds=60)
    with pytest.raises(FencedOffError):  # the old holder, still at work, writes no more
        fire_due(uow, rules, publisher, dispatcher, clock).execute(1001)
    assert new.run_once()

    fires = uow.schedule_fires.find(schedule.id, before=None, limit=10)
    assert [f.outcome for f in fires] == [FireOutcome.FIRED] * 3
    assert [f.fence for f in reversed(fires)] == [1001, 1002, 1002]
    assert len({f.fire_time for f in fires}) == 3

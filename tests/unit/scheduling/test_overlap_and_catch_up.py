"""The overlap rules buffer_one and cancel_previous, and catch_up=latest after an outage."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.cron.calendar import CronsimCalendar
from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.ports import TaskQuery
from application.publishing import TaskPublisher
from application.scheduling import ScheduleRules
from application.use_cases.create_schedule import CreateSchedule
from application.use_cases.fire_due_schedules import FireDueSchedules
from domain.schedule import CatchUp, Fire, FireOutcome, Interval, Overlap, Schedule, TaskTemplate
from domain.task import RunToken, Task, TaskStatus
from domain.user import User


@pytest.fixture
def rules(catalog: StaticTaskTypeCatalog) -> ScheduleRules:
    return ScheduleRules(catalog=catalog, calendar=CronsimCalendar(), min_interval_seconds=60)


def scheduler(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    *,
    grace_seconds: float = 60,
) -> FireDueSchedules:
    return FireDueSchedules(
        uow=uow,
        rules=rules,
        publisher=publisher,
        dispatcher=dispatcher,
        clock=clock,
        misfire_grace=timedelta(seconds=grace_seconds),
        max_active_tasks=100,
        batch_size=100,
    )


def every_minute(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    clock: FixedClock,
    owner: User,
    *,
    overlap: Overlap = Overlap.SKIP,
    catch_up: CatchUp = CatchUp.NONE,
) -> Schedule:
    return CreateSchedule(uow=uow, rules=rules, clock=clock, max_schedules=10).execute(
        owner,
        name="each minute",
        template=TaskTemplate("tick", "sleep", kwargs={"seconds": 1}),
        trigger=Interval(60),
        overlap=overlap,
        catch_up=catch_up,
    )


def ledger(uow: InMemoryUnitOfWork, schedule: Schedule) -> list[Fire]:
    """Oldest first."""
    with uow:
        return sorted(
            uow.schedule_fires.find(schedule.id, before=None, limit=100),
            key=lambda f: f.fire_time,
        )


def runs(uow: InMemoryUnitOfWork, schedule: Schedule) -> list[Task]:
    """Oldest fire time first."""
    with uow:
        found = uow.tasks.find(TaskQuery(schedule_id=schedule.id))
    return sorted(found, key=lambda t: t.fire_time or t.created_at)


def start(uow: InMemoryUnitOfWork, task: Task, clock: FixedClock) -> None:
    """A worker takes the run up."""
    with uow:
        current = uow.tasks.get(task.id)
        current.start(run_token=RunToken(f"run-{task.id}"), at=clock.now())
        uow.tasks.update(current)
        uow.commit()


def test_buffer_one_queues_one_run_behind_the_running_one_and_skips_further_fires(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(uow, rules, clock, alice, overlap=Overlap.BUFFER_ONE)
    tick = scheduler(uow, rules, publisher, dispatcher, clock)
    clock.advance(seconds=61)
    tick.execute(fence=1)
    (running,) = runs(uow, schedule)
    start(uow, running, clock)

    clock.advance(seconds=60)
    assert tick.execute(fence=1) == 1  # waits behind the running one
    clock.advance(seconds=60)
    assert tick.execute(fence=1) == 0  # one is waiting already

    assert [(f.outcome, f.reason) for f in ledger(uow, schedule)] == [
        (FireOutcome.FIRED, None),
        (FireOutcome.FIRED, None),
        (FireOutcome.SKIPPED, "overlap=buffer_one"),
    ]
    assert [t.status for t in runs(uow, schedule)] == [TaskStatus.RUNNING, TaskStatus.PENDING]


def test_buffer_one_skips_while_the_previous_run_still_waits_for_a_worker(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(uow, rules, clock, alice, overlap=Overlap.BUFFER_ONE)
    tick = scheduler(uow, rules, publisher, dispatcher, clock)
    clock.advance(seconds=61)
    tick.execute(fence=1)
    clock.advance(seconds=60)
    tick.execute(fence=1)

    assert [f.outcome for f in ledger(uow, schedule)] == [
        FireOutcome.FIRED,
        FireOutcome.SKIPPED,
    ]
    assert len(runs(uow, schedule)) == 1


def test_cancel_previous_cancels_the_unfinished_run_revokes_it_and_fires_a_new_one(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(uow, rules, clock, alice, overlap=Overlap.CANCEL_PREVIOUS)
    tick = scheduler(uow, rules, publisher, dispatcher, clock)
    clock.advance(seconds=61)
    tick.execute(fence=1)
    (previous,) = runs(uow, schedule)
    start(uow, previous, clock)

    clock.advance(seconds=60)
    assert tick.execute(fence=1) == 1

    cancelled, fresh = runs(uow, schedule)
    assert cancelled.id == previous.id
    assert cancelled.status is TaskStatus.CANCELLED
    assert fresh.status is TaskStatus.PENDING
    assert dispatcher.revoked == [previous.id]
    assert [f.outcome for f in ledger(uow, schedule)] == [FireOutcome.FIRED] * 2


def test_catch_up_latest_runs_the_latest_fire_time_missed_during_an_outage_once(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(
        uow, rules, clock, alice, overlap=Overlap.ALLOW, catch_up=CatchUp.LATEST
    )
    created = clock.now()
    # Down for five fire times, the last of them 30 s past: all beyond the 10 s grace.
    clock.advance(minutes=5, seconds=30)
    assert scheduler(uow, rules, publisher, dispatcher, clock, grace_seconds=10).execute(1) == 1

    fires = ledger(uow, schedule)
    assert [(f.outcome, f.reason) for f in fires] == [
        (FireOutcome.MISSED, "catch_up=latest")
    ] * 4 + [(FireOutcome.FIRED, None)]
    (run,) = runs(uow, schedule)
    assert run.fire_time == fires[-1].fire_time == created + timedelta(minutes=5)


def test_catch_up_latest_runs_nothing_late_when_a_fire_time_on_time_follows(
    uow: InMemoryUnitOfWork,
    rules: ScheduleRules,
    publisher: TaskPublisher,
    dispatcher: RecordingTaskDispatcher,
    clock: FixedClock,
    alice: User,
) -> None:
    schedule = every_minute(
        uow, rules, clock, alice, overlap=Overlap.ALLOW, catch_up=CatchUp.LATEST
    )
    clock.advance(minutes=5, seconds=5)  # the fifth fire time is 5 s old: within the grace
    assert scheduler(uow, rules, publisher, dispatcher, clock, grace_seconds=10).execute(1) == 1

    assert [f.outcome for f in ledger(uow, schedule)] == [FireOutcome.MISSED] * 4 + [
        FireOutcome.FIRED
    ]

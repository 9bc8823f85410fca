"""A database outage during a run is not the task's failure: its progress writes and
cancellation checks ride it out, and RunTask writes the result once the database is back."""

from __future__ import annotations

from dataclasses import replace
from typing import Self

import pytest
from dependency_injector import providers

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.errors import DependencyUnavailableError
from application.ports import TaskContext
from application.running.check_run import CheckRun
from application.running.context import RunContext
from application.running.outcomes import Completed
from application.running.report_progress import ReportProgress
from application.running.run_task import RunTask, RunTuning
from application.running.start_task import StartTask
from config.settings import Settings
from domain.task import Task, TaskStatus
from domain.user import User
from entrypoints.container import CoreContainer
from tests.factories import make_task
from tests.unit.worker.runs import run_task_on


class UnreachableUnitOfWork(InMemoryUnitOfWork):
    """Fails at the `with` line while `down`, as the SQLAlchemy one does."""

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.down = False
        self.refused = 0

    def __enter__(self) -> Self:
        if self.down:
            self.refused += 1
            raise DependencyUnavailableError("the database is unavailable", dependency="database")
        return super().__enter__()


def saved(store: InMemoryStore, task: Task) -> Task:
    with InMemoryUnitOfWork(store) as uow:
        uow.tasks.add(task)
        uow.commit()
    return task


def stored(store: InMemoryStore, task: Task) -> Task:
    with InMemoryUnitOfWork(store) as uow:
        return uow.tasks.get(task.id)


def test_progress_during_an_outage_is_kept_and_written_once_the_database_is_back(
    store: InMemoryStore, clock: FixedClock, alice: User
) -> None:
    uow = UnreachableUnitOfWork(store)
    task = saved(store, make_task(user=alice))
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    ctx = RunContext(
        task_id=run.task_id,
        run_token=run.run_token,
        attempt=run.attempt,
        report_progress=ReportProgress(uow=uow, clock=clock),
        check_run=CheckRun(uow=uow),
        min_interval=0,
    )

    uow.down = True
    ctx.progress(30, "a third")
    ctx.check_cancelled()
    uow.down = False
    ctx.flush()

    row = stored(store, task)
    assert uow.refused == 2
    assert (row.status, row.progress.percent, row.progress_message) == (
        TaskStatus.RUNNING,
        30,
        "a third",
    )
    assert not ctx.cancelled


class Steps(TaskArguments):
    steps: int = 3


def test_a_run_that_reports_progress_through_an_outage_completes_with_its_result(
    store: InMemoryStore, clock: FixedClock, alice: User
) -> None:
    uow = UnreachableUnitOfWork(store)

    def steps_through_an_outage(ctx: TaskContext, args: Steps) -> dict[str, int]:
        for step in range(1, args.steps + 1):
            uow.down = step == 2  # the database is away for the middle step only
            ctx.progress(step * 100 // args.steps)
            ctx.check_cancelled()
        uow.down = False
        return {"steps": args.steps}

    registry = TaskTypeRegistry(
        [TaskType("steps", steps_through_an_outage, Steps, description="steps")]
    )
    runner = run_task_on(uow, clock, registry, tuning=RunTuning(progress_interval=0))
    task = saved(store, make_task(user=alice, task_type="steps"))

    outcome = runner.execute(task.id)

    row = stored(store, task)
    assert uow.refused >= 1
    assert isinstance(outcome, Completed)
    assert (row.status, row.result, row.error) == (TaskStatus.COMPLETED, {"steps": 3}, None)


class OutageForTries(InMemoryUnitOfWork):
    """Refuses the next `tries` units of work once `start()` is called, as a database that is
    away for a while does; counts them."""

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.left = 0
        self.refused = 0

    def start(self, tries: int) -> None:
        self.left = tries

    def __enter__(self) -> Self:
        if self.left > 0:
            self.left -= 1
            self.refused += 1
            raise DependencyUnavailableError(
                "the database is unavailable", dependency="database", cause="disk full"
            )
        return super().__enter__()


def runner_on(
    uow: InMemoryUnitOfWork, clock: FixedClock, registry: TaskTypeRegistry, **tuning: float
) -> RunTask:
    return run_task_on(
        uow,
        clock,
        registry,
        tuning=RunTuning(progress_interval=0, write_backoff=0, **tuning),  # type: ignore[arg-type]
    )


def test_a_computed_result_is_kept_through_an_outage_longer_than_any_retry_budget(
    store: InMemoryStore, clock: FixedClock, alice: User
) -> None:
    uow = OutageForTries(store)

    def computes_then_the_database_goes(ctx: TaskContext, args: Steps) -> dict[str, int]:
        uow.start(tries=50)  # the old budget gave up after 7
        return {"steps": args.steps}

    registry = TaskTypeRegistry(
        [TaskType("steps", computes_then_the_database_goes, Steps, description="steps")]
    )
    task = saved(store, make_task(user=alice, task_type="steps"))

    outcome = runner_on(uow, clock, registry, claim_attempts=3).execute(task.id)

    row = stored(store, task)
    assert uow.refused == 50
    assert outcome == Completed({"steps": 3})
    assert (row.status, row.result, row.attempts) == (TaskStatus.COMPLETED, {"steps": 3}, 1)


def test_a_claim_the_database_never_answers_raises_and_runs_nothing(
    store: InMemoryStore, clock: FixedClock, alice: User
) -> None:
    uow = OutageForTries(store)
    ran: list[int] = []

    def records_its_run(ctx: TaskContext, args: Steps) -> dict[str, int]:
        ran.append(1)
        return {}

    registry = TaskTypeRegistry([TaskType("steps", records_its_run, Steps, description="s")])
    task = saved(store, make_task(user=alice, task_type="steps"))
    uow.start(tries=1000)

    with pytest.raises(DependencyUnavailableError) as raised:
        runner_on(uow, clock, registry, claim_attempts=3).execute(task.id)

    assert raised.value.cause == "disk full"
    assert uow.refused == 3
    assert ran == []
    uow.start(tries=0)
    assert stored(store, task).status is TaskStatus.PENDING


def test_with_the_default_settings_a_claim_waits_12_75_s_in_all_before_it_gives_up(
    store: InMemoryStore, clock: FixedClock, alice: User
) -> None:
    """The budget docs/architecture.md states: TASKHUB_CLAIM_ATTEMPTS (7) tries, 0.25 s
    apart and doubling, at most TASKHUB_STALE_AFTER_SECONDS / 3 (5 s)."""
    defaults = {
        name: Settings.model_fields[name].default
        for name in ("claim_attempts", "stale_after_seconds")
    }
    container = CoreContainer()
    container.settings.override(providers.Object(Settings(environment="development", **defaults)))
    uow = OutageForTries(store)
    registry = TaskTypeRegistry([TaskType("steps", lambda ctx, args: {}, Steps, description="s")])
    waits: list[float] = []
    runner = replace(
        run_task_on(uow, clock, registry, tuning=container.run_tuning()), sleep=waits.append
    )
    task = saved(store, make_task(user=alice, task_type="steps"))
    uow.start(tries=1000)

    with pytest.raises(DependencyUnavailableError):
        runner.execute(task.id)

    assert uow.refused == 7
    assert waits == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0]
    assert sum(waits) == 12.75

"""The worker's runner on in-memory adapters: outcomes, throttled progress, cancellation."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.task_types.files import UnreadableFileError
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.ports import RunObserver, TaskContext
from application.publishing import RecordDispatchedNow, TaskPublisher
from application.running.outcomes import (
    Cancelled,
    Completed,
    Failed,
    Outcome,
    Retried,
    Skipped,
    TakenBack,
    TaskRun,
)
from application.running.run_task import RunTask, RunTuning
from application.use_cases.cancel_task import CancelTask
from application.use_cases.reap_stale_tasks import ReapStaleTasks
from domain.task import Task, TaskError, TaskStatus
from domain.user import User
from tests.factories import make_task
from tests.unit.worker.runs import of_its_own, run_task_on, watchdog_on


class Steps(TaskArguments):
    steps: int = 3


def chatty(ctx: TaskContext, args: Steps) -> dict[str, int]:
    for n in range(1, args.steps + 1):
        ctx.progress(n * 100 // args.steps)
    return {"steps": args.steps}


def counts_to_the_end(ctx: TaskContext, args: Steps) -> int:
    for n in range(1, args.steps + 1):
        ctx.progress(n * 100 // args.steps, f"{n}/{args.steps} values")
    return args.steps


def stops_half_way(ctx: TaskContext, args: Steps) -> str:
    ctx.progress(50, "halfway")
    return "enough"


def boom(ctx: TaskContext, args: Steps) -> None:
    ctx.progress(40, "almost")
    raise ValueError("boom")


def flaky(ctx: TaskContext, args: Steps) -> None:
    raise ConnectionError("try later")


def missing_file(ctx: TaskContext, args: Steps) -> None:
    raise UnreadableFileError("data/input.csv: no such file or directory")


def unserialisable(ctx: TaskContext, args: Steps) -> object:
    return object()


def cooperative(ctx: TaskContext, args: Steps) -> None:
    while True:
        time.sleep(0.01)
        ctx.check_cancelled()


def stubborn(ctx: TaskContext, args: Steps) -> None:
    time.sleep(30)


def asks_its_owners_role(ctx: TaskContext, args: Steps) -> bool:
    return ctx.owner_is_admin


REGISTRY = TaskTypeRegistry(
    [
        TaskType(
            name=name,
            function=function,
            arguments=Steps,
            description=name,
            retry_on=(ConnectionError,),
            retry_backoff=1.5,
        )
        for name, function in [
            ("chatty", chatty),
            ("counts_to_the_end", counts_to_the_end),
            ("stops_half_way", stops_half_way),
            ("boom", boom),
            ("missing_file", missing_file),
            ("flaky", flaky),
            ("unserialisable", unserialisable),
            ("cooperative", cooperative),
            ("stubborn", stubborn),
            ("asks_its_owners_role", asks_its_owners_role),
        ]
    ]
)


@pytest.fixture
def runner(uow: InMemoryUnitOfWork, clock: FixedClock, publisher: TaskPublisher) -> RunTask:
    return run_task_on(
        uow,
        clock,
        REGISTRY,
        publisher=publisher,
        supervisor=watchdog_on(uow, clock, heartbeat_interval=0.05, poll_interval=0.02, grace=0.1),
        tuning=RunTuning(progress_interval=0.05),
    )


def submitted(uow: InMemoryUnitOfWork, alice: User, task_type: str, **kwargs: Any) -> Task:
    task = make_task(user=alice, task_type=task_type, kwargs=kwargs)
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


def stored(uow: InMemoryUnitOfWork, task: Task) -> Task:
    with uow:
        return uow.tasks.get(task.id)


def test_a_task_runs_to_completion_with_its_result(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "chatty", steps=4)

    outcome = runner.execute(task.id)

    row = stored(uow, task)
    assert outcome == Completed({"steps": 4})
    assert (row.status, row.result, row.progress.percent) == (
        TaskStatus.COMPLETED,
        {"steps": 4},
        100,
    )


def test_a_run_learns_whether_its_owner_is_an_administrator_when_it_asks(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User, admin: User
) -> None:
    users_task = submitted(uow, alice, "asks_its_owners_role")
    admins_task = submitted(uow, admin, "asks_its_owners_role")

    assert runner.execute(users_task.id) == Completed(False)
    assert runner.execute(admins_task.id) == Completed(True)


def test_a_completed_task_shows_the_last_progress_message_it_reported_at_100_percent(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "counts_to_the_end", steps=8)
    # Only the first report is written before the completion; the last one is still pending.
    unhurried = replace(runner, tuning=replace(runner.tuning, progress_interval=60))

    unhurried.execute(task.id)

    row = stored(uow, task)
    assert (row.status, row.progress.percent) == (TaskStatus.COMPLETED, 100)
    assert row.progress_message == "8/8 values"


def test_a_completed_task_keeps_no_message_of_an_unfinished_stage(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "stops_half_way")

    runner.execute(task.id)

    row = stored(uow, task)
    assert (row.status, row.progress.percent, row.progress_message) == (
        TaskStatus.COMPLETED,
        100,
        None,
    )


def test_ten_thousand_progress_reports_cost_a_bounded_number_of_writes(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "chatty", steps=10_000)
    commits_before = uow.commits

    runner.execute(task.id)

    # claim + complete + a handful of throttled progress writes, not ten thousand
    assert uow.commits - commits_before < 50


def test_a_raising_task_fails_with_its_error_and_keeps_its_last_progress(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "boom")

    outcome = runner.execute(task.id)

    assert isinstance(outcome, Failed)
    assert (outcome.error_type, outcome.message) == ("ValueError", "boom")
    row = stored(uow, task)
    assert row.error is not None
    assert (row.error.type, row.error.message) == ("ValueError", "boom")
    assert row.error.traceback is not None
    assert 'in boom\n    raise ValueError("boom")' in row.error.traceback
    assert row.error.traceback.endswith("ValueError: boom\n")
    assert (row.progress.percent, row.progress_message) == (40, "almost")


def test_a_failure_caused_by_the_input_is_logged_at_info_without_a_traceback(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    task = submitted(uow, alice, "missing_file")

    with caplog.at_level(logging.INFO, logger="adapters.task_types.executor"):
        assert runner.execute(task.id) == Failed(
            "UnreadableFileError", "data/input.csv: no such file or directory"
        )

    assert stored(uow, task).error == TaskError(
        "UnreadableFileError", "data/input.csv: no such file or directory"
    )
    about_the_failure = [r for r in caplog.records if "input.csv" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in about_the_failure] == [(logging.INFO, None)]


def test_an_unexpected_error_is_still_logged_with_its_traceback(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    task = submitted(uow, alice, "boom")

    with caplog.at_level(logging.INFO, logger="adapters.task_types.executor"):
        runner.execute(task.id)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_a_retryable_error_requeues_with_backoff(
    runner: RunTask, uow: InMemoryUnitOfWork, dispatcher: RecordingTaskDispatcher, alice: User
) -> None:
    task = submitted(uow, alice, "flaky")

    assert isinstance(runner.execute(task.id), Retried)
    assert isinstance(runner.execute(task.id), Retried)

    row = stored(uow, task)
    assert (row.status, row.attempts) == (TaskStatus.PENDING, 2)
    assert [e.countdown for e in dispatcher.enqueued] == [1.5, 3.0]


def test_a_result_that_is_not_json_fails_the_task(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "unserialisable")

    runner.execute(task.id)

    error = stored(uow, task).error
    assert error is not None
    assert error.type == "ResultNotSerializable"


def test_a_duplicate_delivery_is_skipped(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "chatty")
    runner.execute(task.id)

    assert runner.execute(task.id) == Skipped("completed")
    assert stored(uow, task).attempts == 1


def test_a_delivery_of_a_task_cancelled_while_pending_says_it_found_it_cancelled(
    runner: RunTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    task = submitted(uow, alice, "chatty")
    CancelTask(uow=uow, dispatcher=RecordingTaskDispatcher(), clock=clock).execute(alice, task.id)

    assert runner.execute(task.id) == Skipped("cancelled")


def test_a_delivery_of_a_deleted_task_says_it_found_it_deleted(
    runner: RunTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "chatty")
    with uow:
        uow.tasks.delete(uow.tasks.get(task.id))
        uow.commit()

    assert runner.execute(task.id) == Skipped("deleted")


def cancel_soon(uow: InMemoryUnitOfWork, clock: FixedClock, alice: User, task: Task) -> None:
    def cancel() -> None:
        its_own = of_its_own(uow)
        while stored(its_own, task).status is not TaskStatus.RUNNING:
            time.sleep(0.01)
        CancelTask(uow=its_own, dispatcher=RecordingTaskDispatcher(), clock=clock).execute(
            alice, task.id
        )

    threading.Thread(target=cancel, daemon=True).start()


def test_a_cooperative_task_stops_soon_after_it_is_cancelled(
    runner: RunTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    task = submitted(uow, alice, "cooperative")
    cancel_soon(uow, clock, alice, task)
    started = time.monotonic()

    outcome = runner.execute(task.id)

    assert outcome == Cancelled()
    assert time.monotonic() - started < 2
    assert stored(uow, task).status is TaskStatus.CANCELLED


def test_a_task_that_ignores_cancellation_is_interrupted(
    runner: RunTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    task = submitted(uow, alice, "stubborn")
    cancel_soon(uow, clock, alice, task)
    started = time.monotonic()

    outcome = runner.execute(task.id)

    assert outcome == Cancelled()
    assert time.monotonic() - started < 2
    assert stored(uow, task).status is TaskStatus.CANCELLED


def reap_once_running(uow: InMemoryUnitOfWork, publisher: TaskPublisher, task: Task) -> None:
    """The reaper of a Beat that finds the run silent: its clock is an hour ahead."""

    def reap() -> None:
        its_own = of_its_own(uow)
        while stored(its_own, task).status is not TaskStatus.RUNNING:
            time.sleep(0.01)
        ReapStaleTasks(
            uow=its_own,
            publisher=replace(publisher, recorder=RecordDispatchedNow(its_own)),
            clock=FixedClock(FixedClock().current + timedelta(hours=1)),
            stale_after=timedelta(seconds=15),
            batch_size=10,
        ).execute()

    threading.Thread(target=reap, daemon=True).start()


class Outcomes(RunObserver):
    def __init__(self) -> None:
        self.seen: list[Outcome] = []

    def started(self, run: TaskRun) -> None:
        pass

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None:
        self.seen.append(outcome)


def test_a_run_taken_back_by_the_reaper_is_counted_as_taken_back_not_cancelled(
    runner: RunTask, uow: InMemoryUnitOfWork, publisher: TaskPublisher, alice: User
) -> None:
    observed = Outcomes()
    observing = replace(runner, observer=observed)
    task = submitted(uow, alice, "cooperative")
    reap_once_running(uow, publisher, task)

    outcome = observing.execute(task.id)

    assert outcome == TakenBack(status="pending")
    assert observed.seen == [TakenBack(status="pending")]
    assert stored(uow, task).status is TaskStatus.PENDING


def test_a_cancelled_run_is_still_counted_as_cancelled(
    runner: RunTask, uow: InMemoryUnitOfWork, clock: FixedClock, alice: User
) -> None:
    observed = Outcomes()
    observing = replace(runner, observer=observed)
    task = submitted(uow, alice, "cooperative")
    cancel_soon(uow, clock, alice, task)

    observing.execute(task.id)

    assert observed.seen == [Cancelled()]

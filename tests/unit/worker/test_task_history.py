"""Each task's story on in-memory adapters: every attempt recorded as it ends, with its
worker, times, outcome and traceback; the lines its runs logged, capped, purged with it."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import pytest

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.ports import TaskContext
from application.publishing import TaskPublisher
from application.running.run_task import RunTuning
from application.use_cases.cancel_task import CancelTask
from application.use_cases.reap_stale_tasks import ReapStaleTasks
from domain.attempt import AttemptOutcome
from domain.task import Task, TaskId, WorkerId, clip_traceback
from domain.user import User
from tests.factories import make_task
from tests.unit.worker.runs import run_task_on

logger = logging.getLogger(__name__)


class NoArguments(TaskArguments):
    pass


def flaky(ctx: TaskContext, args: NoArguments) -> None:
    ctx.log(f"attempt {ctx.attempt} calling the service")
    raise ConnectionError("service unavailable")


def chatty(ctx: TaskContext, args: NoArguments) -> str:
    ctx.log("through the context", level="warning")
    logger.info("through the module's logger: %d", 42)
    elsewhere = threading.Thread(target=lambda: logger.info("from another thread"))
    elsewhere.start()
    elsewhere.join()
    logging.getLogger("some.library").info("not the task's module")
    return "done"


def many_lines(ctx: TaskContext, args: NoArguments) -> None:
    for n in range(1, 8):
        ctx.log(f"line {n}")


REGISTRY = TaskTypeRegistry(
    [
        TaskType(
            name=function.__name__,
            function=function,
            arguments=NoArguments,
            description=function.__name__,
            retry_on=(ConnectionError,),
            retry_backoff=0.0,
        )
        for function in (flaky, chatty, many_lines)
    ]
)
HERE = WorkerId("worker-7.example", 4242)


def submitted(uow: InMemoryUnitOfWork, alice: User, task_type: str, **fields: Any) -> Task:
    task = make_task(user=alice, task_type=task_type, **fields)
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


@pytest.fixture
def run(uow: InMemoryUnitOfWork, clock: FixedClock, publisher: TaskPublisher) -> Any:
    return run_task_on(
        uow,
        clock,
        REGISTRY,
        publisher=publisher,
        tuning=RunTuning(progress_interval=0.0),
        worker=HERE,
    )


def attempts(uow: InMemoryUnitOfWork, task_id: TaskId) -> list[Any]:
    with uow:
        return uow.attempts.list(task_id)


def log_lines(uow: InMemoryUnitOfWork, task_id: TaskId) -> list[tuple[int, str, str]]:
    with uow:
        lines = uow.task_logs.page(task_id, after=None, limit=100)
    return [(line.attempt, line.level.value, line.message) for line in lines]


def test_every_attempt_is_recorded_with_its_worker_times_outcome_and_traceback(
    run: Any, uow: InMemoryUnitOfWork, alice: User, clock: FixedClock
) -> None:
    task = submitted(uow, alice, "flaky", max_attempts=3)

    for _ in range(3):
        run.execute(task.id)
        clock.advance(seconds=5)

    recorded = attempts(uow, task.id)
    assert [a.number for a in recorded] == [1, 2, 3]
    assert [a.outcome for a in recorded] == [
        AttemptOutcome.RETRIED,
        AttemptOutcome.RETRIED,
        AttemptOutcome.FAILED,
    ]
    for attempt in recorded:
        assert attempt.worker == HERE
        assert attempt.started_at is not None
        assert attempt.duration_seconds is not None
        assert attempt.error is not None
        assert (attempt.error.type, attempt.error.message) == (
            "ConnectionError",
            "service unavailable",
        )
        assert attempt.error.traceback is not None
        assert 'raise ConnectionError("service unavailable")' in attempt.error.traceback
    assert recorded[1].started_at is not None
    assert recorded[0].ended_at <= recorded[1].started_at


def test_a_run_taken_back_by_the_reaper_is_an_attempt_retried_for_its_lost_worker(
    run: Any, uow: InMemoryUnitOfWork, alice: User, clock: FixedClock, publisher: TaskPublisher
) -> None:
    task = submitted(uow, alice, "chatty")
    run.claim.execute(task.id)
    clock.advance(seconds=60)

    ReapStaleTasks(
        uow, publisher, clock, stale_after=timedelta(seconds=15), batch_size=10
    ).execute()

    (attempt,) = attempts(uow, task.id)
    assert attempt.outcome is AttemptOutcome.RETRIED
    assert attempt.error is not None
    assert attempt.error.type == "WorkerLostError"
    assert attempt.worker == HERE


def test_cancelling_a_task_waiting_for_its_retry_adds_no_second_record_of_the_same_attempt(
    run: Any, uow: InMemoryUnitOfWork, alice: User, admin: User, clock: FixedClock
) -> None:
    task = submitted(uow, alice, "flaky", max_attempts=3)
    run.execute(task.id)  # retried: pending again, attempt 1 over

    CancelTask(uow=uow, dispatcher=RecordingTaskDispatcher(), clock=clock).execute(alice, task.id)

    assert [(a.number, a.outcome) for a in attempts(uow, task.id)] == [(1, AttemptOutcome.RETRIED)]


def test_a_pending_task_cancelled_before_any_run_has_no_attempts(
    uow: InMemoryUnitOfWork, alice: User, clock: FixedClock
) -> None:
    task = submitted(uow, alice, "chatty")

    CancelTask(uow=uow, dispatcher=RecordingTaskDispatcher(), clock=clock).execute(alice, task.id)

    assert attempts(uow, task.id) == []


def test_the_task_log_keeps_ctx_log_and_its_modules_logging_on_the_runs_thread_only(
    run: Any, uow: InMemoryUnitOfWork, alice: User, caplog: pytest.LogCaptureFixture
) -> None:
    task = submitted(uow, alice, "chatty")
    caplog.set_level(logging.INFO)  # as TASKHUB_LOG_LEVEL sets it in a worker

    run.execute(task.id)

    assert log_lines(uow, task.id) == [
        (1, "warning", "through the context"),
        (1, "info", "through the module's logger: 42"),
    ]


def test_log_lines_carry_their_attempt_and_survive_a_failed_run(
    run: Any, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "flaky", max_attempts=2)

    run.execute(task.id)
    run.execute(task.id)

    assert log_lines(uow, task.id) == [
        (1, "info", "attempt 1 calling the service"),
        (2, "info", "attempt 2 calling the service"),
    ]


def test_a_task_keeps_only_its_newest_log_lines(
    uow: InMemoryUnitOfWork, alice: User, clock: FixedClock, publisher: TaskPublisher
) -> None:
    runner = run_task_on(
        uow,
        clock,
        REGISTRY,
        publisher=publisher,
        tuning=RunTuning(progress_interval=0.0),
        keep_log_lines=3,
    )
    task = submitted(uow, alice, "many_lines")

    runner.execute(task.id)

    assert [message for _, _, message in log_lines(uow, task.id)] == ["line 5", "line 6", "line 7"]
    with uow:
        assert [line.seq for line in uow.task_logs.page(task.id, after=5, limit=10)] == [6, 7]


def test_attempts_and_log_lines_go_with_their_task(
    run: Any, uow: InMemoryUnitOfWork, alice: User
) -> None:
    task = submitted(uow, alice, "flaky", max_attempts=1)
    run.execute(task.id)
    assert attempts(uow, task.id)
    assert log_lines(uow, task.id)

    with uow:
        uow.tasks.delete(uow.tasks.get(task.id))
        uow.commit()

    assert attempts(uow, task.id) == []
    assert log_lines(uow, task.id) == []


def test_a_long_traceback_keeps_its_end_within_the_limit() -> None:
    text = "".join(f"  frame {n}\n" for n in range(1000)) + "ValueError: boom\n"

    clipped = clip_traceback(text, 200)

    assert len(clipped) <= 200
    assert clipped.startswith("... (")
    assert clipped.endswith("frame 999\nValueError: boom\n")
    assert clip_traceback("short\n", 200) == "short\n"

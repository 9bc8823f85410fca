"""Workflow releases racing on a real database (SQLite and PostgreSQL), hundreds of times:
two dependencies completing at once on two workers release their common dependent exactly
once, a release racing the workflow's cancel ends in one consistent state, and the reaper,
a workflow's cancel and a run's end, all at once, never deadlock (they take their locks in
one order: the workflow's row, then task rows by id)."""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext

from adapters.clock import SystemClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.sqlalchemy.errors import _translate as translate_database_error
from application.errors import DependencyUnavailableError
from application.publishing import RecordDispatchedNow, TaskPublisher
from application.running.outcomes import Completed, TaskRun
from application.running.record_outcome import RecordOutcome
from application.running.start_task import StartTask
from application.use_cases.cancel_workflow import CancelWorkflow
from application.use_cases.reap_stale_tasks import DatabaseUptime, ReapStaleTasks
from domain.errors import ConflictError, StaleRunError
from domain.task import Task, TaskStatus
from domain.workflow import WorkflowStatus
from tests.factories import make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save, save_workflow

REPETITIONS = 200
T = TypeVar("T")


def persist(write: Callable[[], T]) -> T:
    """Retry through a busy database, as RunTask does for a run's writes."""
    while True:
        try:
            return write()
        except DependencyUnavailableError:
            time.sleep(0.01)


def claim(new_uow: NewUnitOfWork, task: Task) -> TaskRun:
    return StartTask(uow=new_uow(), clock=SystemClock()).execute(task.id)


def recorder(new_uow: NewUnitOfWork, dispatcher: RecordingTaskDispatcher) -> RecordOutcome:
    clock = SystemClock()
    publisher = TaskPublisher(dispatcher, RecordDispatchedNow(new_uow()), clock)
    return RecordOutcome(uow=new_uow(), publisher=publisher, clock=clock)


def both_at_once(pool: ThreadPoolExecutor, *writes: Callable[[], object]) -> None:
    """Run the writes on threads released together; re-raise what any raised."""
    barrier = threading.Barrier(len(writes))

    def go(write: Callable[[], object]) -> None:
        barrier.wait()
        write()

    for future in [pool.submit(go, write) for write in writes]:
        future.result()


def completing(record: RecordOutcome, run: TaskRun) -> Callable[[], None]:
    def complete() -> None:
        # A refusal means the workflow's cancel got there first: the result is discarded.
        with contextlib.suppress(ConflictError):
            persist(lambda: record.execute(run, Completed(None)))

    return complete


def test_two_dependencies_completing_at_once_release_their_dependent_exactly_once(
    new_sql_uow: NewUnitOfWork,
) -> None:
    owner = save(new_sql_uow, make_user())
    dispatcher = RecordingTaskDispatcher()

    with ThreadPoolExecutor(2) as pool:
        for _ in range(REPETITIONS):
            tasks = save_workflow(new_sql_uow, owner, {"a": [], "b": [], "child": ["a", "b"]})
            runs = [claim(new_sql_uow, tasks["a"]), claim(new_sql_uow, tasks["b"])]
            both_at_once(pool, *(completing(recorder(new_sql_uow, dispatcher), r) for r in runs))

            with new_sql_uow() as uow:
                child = uow.tasks.get(tasks["child"].id)
                parents = {uow.tasks.get(tasks[k].id).status for k in ("a", "b")}
            assert parents == {TaskStatus.COMPLETED}
            assert child.status is TaskStatus.PENDING
            assert child.dispatched
            assert dispatcher.enqueued_ids.count(child.id) == 1


def test_a_release_racing_the_workflows_cancel_ends_in_one_consistent_state(
    new_sql_uow: NewUnitOfWork,
) -> None:
    owner = save(new_sql_uow, make_user())
    dispatcher = RecordingTaskDispatcher()
    seen: dict[TaskStatus, int] = {TaskStatus.COMPLETED: 0, TaskStatus.CANCELLED: 0}

    with ThreadPoolExecutor(2) as pool:
        for _ in range(REPETITIONS):
            tasks = save_workflow(new_sql_uow, owner, {"a": [], "child": ["a"]})
            run = claim(new_sql_uow, tasks["a"])
            workflow_id = tasks["a"].workflow_id
            assert workflow_id is not None
            cancel = CancelWorkflow(uow=new_sql_uow(), dispatcher=dispatcher, clock=SystemClock())
            both_at_once(
                pool,
                completing(recorder(new_sql_uow, dispatcher), run),
                functools.partial(persist, functools.partial(cancel.execute, owner, workflow_id)),
            )

            with new_sql_uow() as uow:
                workflow = uow.workflows.get(workflow_id)
                a = uow.tasks.get(tasks["a"].id)
                child = uow.tasks.get(tasks["child"].id)
            assert workflow.status is WorkflowStatus.CANCELLED
            assert child.status is TaskStatus.CANCELLED
            assert a.status in seen
            seen[a.status] += 1
    # Both orders happened (the completion first, the cancel first), so the race was real.
    assert all(seen.values()), seen


# PostgreSQL's deadlock_detected, caught before taskhub translates it (to a concurrency
# conflict, which a retry would hide).
_DEADLOCK = "40P01"


@dataclass
class LaterClock:
    """The system clock, `ahead` in the future: every running task looks silent to the
    reaper."""

    ahead: timedelta

    def now(self) -> datetime:
        return SystemClock().now() + self.ahead


def counting_deadlocks(engine: Engine) -> Counter[str]:
    """Count PostgreSQL's deadlocks on `engine`, including those a use case's retry hides:
    seen before taskhub's error translation, which then runs as before."""
    deadlocks: Counter[str] = Counter()

    def seen(context: ExceptionContext) -> None:
        if getattr(context.original_exception, "sqlstate", None) == _DEADLOCK:
            deadlocks["deadlock"] += 1
        translate_database_error(context)

    event.remove(engine, "handle_error", translate_database_error)
    event.listen(engine, "handle_error", seen)
    return deadlocks


def failures_of(pool: ThreadPoolExecutor, *writes: Callable[[], object]) -> list[str]:
    """Run the writes on threads released together; what each raised, by type."""
    barrier = threading.Barrier(len(writes))

    def go(write: Callable[[], object]) -> None:
        barrier.wait()
        write()

    failures = []
    for future in [pool.submit(go, write) for write in writes]:
        error = future.exception()
        if error is not None:
            failures.append(f"{type(error).__name__}: {error}")
    return failures


def test_the_reaper_a_workflows_cancel_and_a_runs_end_racing_never_deadlock(
    engine: Engine, new_sql_uow: NewUnitOfWork
) -> None:
    """Three writers on one workflow at once: the reaper takes back both running tasks (their
    worker looks silent), the client cancels the workflow, and one run's worker records its
    completion (the reaper or the cancel may have ended that run first: refused)."""
    owner = save(new_sql_uow, make_user())
    dispatcher = RecordingTaskDispatcher()
    deadlocks = counting_deadlocks(engine)
    failures: list[str] = []
    endings: Counter[str] = Counter()

    with ThreadPoolExecutor(3) as pool:
        for _ in range(REPETITIONS):
            tasks = save_workflow(new_sql_uow, owner, {"a": [], "b": [], "child": ["a", "b"]})
            run_a, run_b = claim(new_sql_uow, tasks["a"]), claim(new_sql_uow, tasks["b"])
            workflow_id = tasks["a"].workflow_id
            assert workflow_id is not None
            clock: Any = LaterClock(ahead=timedelta(hours=1))
            reap = ReapStaleTasks(
                uow=new_sql_uow(),
                publisher=TaskPublisher(dispatcher, RecordDispatchedNow(new_sql_uow()), clock),
                clock=clock,
                stale_after=timedelta(minutes=1),
                batch_size=10,
                uptime=DatabaseUptime(),
                patience=timedelta(hours=1),  # a wait for a lock must not hide as a rollback
            )
            cancel = CancelWorkflow(uow=new_sql_uow(), dispatcher=dispatcher, clock=SystemClock())
            record = recorder(new_sql_uow, dispatcher)

            def complete_b(record: RecordOutcome = record, run: TaskRun = run_b) -> None:
                try:
                    record.execute(run, Completed(None))
                    endings["b completed by its worker"] += 1
                except StaleRunError:
                    endings["b's worker refused: its run was ended"] += 1

            failures += failures_of(
                pool,
                reap.execute,
                functools.partial(cancel.execute, owner, workflow_id),
                complete_b,
            )

            with new_sql_uow() as uow:
                workflow = uow.workflows.get(workflow_id)
                statuses = {key: uow.tasks.get(t.id).status for key, t in tasks.items()}
            assert workflow.status is WorkflowStatus.CANCELLED
            assert statuses["child"] is TaskStatus.CANCELLED
            assert statuses["a"] is TaskStatus.CANCELLED
            assert statuses["b"] in (TaskStatus.COMPLETED, TaskStatus.CANCELLED)
            del run_a

    print(f"{REPETITIONS} races: {deadlocks['deadlock']} deadlocks, {len(failures)} failures")
    print(f"  b: {dict(endings)}")
    assert failures == []
    assert deadlocks["deadlock"] == 0

"""One delivery of a task, top to bottom: claim it, execute its task type's function under
supervision, store how it ended. Every write is a use case; this module decides the order,
what a database outage does to each step, and what the delivery reports back."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from typing import TypeVar

from application.errors import DependencyUnavailableError, TaskCancelledError
from application.ports import RunObserver, RunSupervisor, TaskExecutor
from application.running.append_task_logs import AppendTaskLogs
from application.running.check_run import CheckRun
from application.running.context import DELETED, RunContext, status_found
from application.running.outcomes import (
    Cancelled,
    Completed,
    Execution,
    Failed,
    Outcome,
    Retried,
    RunOutcome,
    Skipped,
    TakenBack,
    TaskRun,
)
from application.running.read_owner_role import ReadOwnerRole
from application.running.record_outcome import RecordOutcome
from application.running.report_progress import ReportProgress
from application.running.start_task import StartTask
from domain.errors import ConflictError, InvalidTransitionError, NotFoundError, StaleRunError
from domain.task import TaskId, TaskStatus

logger = logging.getLogger(__name__)
T = TypeVar("T")
UPSTREAM_TOO_LARGE = "UpstreamTooLarge"


@dataclass(frozen=True)
class RunTuning:
    progress_interval: float = 0.5
    # The claim is tried this often (12.75 s of waits with the settings' defaults, whose
    # stale_after caps a wait at 5 s); then the delivery gives up (DependencyUnavailableError)
    # and its message goes back to the broker, so an outage never strands an unclaimed task.
    claim_attempts: int = 7
    write_backoff: float = 0.25
    # The outcome is retried until it is stored or refused, however long the outage: it is
    # the only copy of the result. Between tries at most `write_backoff_cap`, which must
    # stay below the reaper's stale_after: once the database is back, the reaper waits that
    # long before it may take the run back, and the write lands first.
    write_backoff_cap: float = 8.0
    # The most the results of a workflow task's dependencies may take as JSON: a run
    # whose `ctx.upstream` would be larger fails instead of loading it.
    max_upstream_bytes: int = 1_048_576


class Unobserved(RunObserver):
    def started(self, run: TaskRun) -> None:
        pass

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None:
        pass


@dataclass(frozen=True)
class RunObservers(RunObserver):
    """Tells each of `observers`, in order."""

    observers: tuple[RunObserver, ...]

    def started(self, run: TaskRun) -> None:
        for observer in self.observers:
            observer.started(run)

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None:
        for observer in self.observers:
            observer.finished(run, outcome, seconds)


class Unsupervised(RunSupervisor):
    """No heartbeat and no one to stop the function: for runs in tests, where nothing
    else takes the task back and a cancelled run learns of it from its own writes."""

    def watch(self, context: RunContext) -> AbstractContextManager[object]:
        return nullcontext()


UNOBSERVED = Unobserved()
UNSUPERVISED = Unsupervised()


@dataclass(frozen=True)
class RunTask:
    """Rules: a delivery runs its task only if it wins the claim; a claim the database does
    not answer is given up after `claim_attempts` (nothing ran; the caller hands the message
    back). The outcome is stored through any outage, until the database takes or refuses
    it; a refusal means the run was ended from outside (cancelled, deleted, taken back) and
    whatever it computed is discarded. A retry with no attempts left is reported failed.
    """

    claim: StartTask
    executor: TaskExecutor
    record_outcome: RecordOutcome
    report_progress: ReportProgress
    check_run: CheckRun
    supervisor: RunSupervisor = UNSUPERVISED
    tuning: RunTuning = RunTuning()
    observer: RunObserver = UNOBSERVED
    sleep: Callable[[float], None] = time.sleep
    append_logs: AppendTaskLogs | None = None
    read_owner_role: ReadOwnerRole | None = None

    def execute(self, task_id: TaskId) -> RunOutcome:
        """What happened to the delivery, as stored. Raises DependencyUnavailableError
        when the database did not answer the claim."""
        try:
            run = self._persist(
                lambda: self.claim.execute(task_id), attempts=self.tuning.claim_attempts
            )
        except (NotFoundError, ConflictError) as exc:
            # Deleted, cancelled, or a duplicate delivery of a task another run has claimed.
            logger.info("task %s not started: %s", task_id, exc.detail)
            if isinstance(exc, NotFoundError):
                return Skipped(DELETED)
            return Skipped(exc.from_ if isinstance(exc, InvalidTransitionError) else None)
        self.observer.started(run)
        # One INFO line a run, at its end; the start is there for whoever turns DEBUG on.
        logger.debug(
            "task %s (%s) started, attempt %d of %d",
            run.task_id,
            run.task_type,
            run.attempt,
            run.max_attempts,
        )
        context = RunContext(
            task_id=run.task_id,
            run_token=run.run_token,
            attempt=run.attempt,
            report_progress=self.report_progress,
            check_run=self.check_run,
            min_interval=self.tuning.progress_interval,
            owner_id=run.owner_id,
            owner_role=self._owner_role(run),
            upstream=run.upstream,
            append_logs=self.append_logs,
        )
        started = time.monotonic()
        with self.supervisor.watch(context):
            try:
                if run.upstream_bytes > self.tuning.max_upstream_bytes:
                    execution: Execution = Failed(
                        UPSTREAM_TOO_LARGE,
                        f"the results of the tasks it depends on take {run.upstream_bytes} "
                        f"bytes, more than TASKHUB_MAX_UPSTREAM_BYTES "
                        f"({self.tuning.max_upstream_bytes})",
                    )
                else:
                    execution = self.executor.execute(run, context)
            except TaskCancelledError:
                outcome: Outcome = _ended_elsewhere(context.over_because)
            else:
                outcome = self._record(run, context, execution)
        seconds = time.monotonic() - started
        self.observer.finished(run, outcome, seconds)
        # A completion is the hot path's line: DEBUG (formatting one was a fiftieth of a
        # no-op run); every other end is rare and worth a line at INFO.
        level = logging.DEBUG if isinstance(outcome, Completed) else logging.INFO
        if logger.isEnabledFor(level):
            kind = type(outcome).__name__.lower()
            logger.log(level, "task %s (%s) %s in %.3fs", run.task_id, run.task_type, kind, seconds)
        return outcome

    def _record(self, run: TaskRun, context: RunContext, execution: Execution) -> Outcome:
        """Store the execution's outcome; returns it as stored."""
        if isinstance(execution, Completed):
            execution = replace(execution, message=context.final_message())
        try:
            context.flush_logs()
            if not isinstance(execution, Completed):
                context.flush()  # keep the last progress reported before the failure
            task = self._persist(lambda: self.record_outcome.execute(run, execution), attempts=None)
        except (TaskCancelledError, ConflictError, NotFoundError) as exc:
            logger.info("outcome of task %s discarded: %s", run.task_id, exc)
            found = status_found(exc) if isinstance(exc, StaleRunError | NotFoundError) else None
            return _ended_elsewhere(context.over_because or found)
        if isinstance(execution, Retried) and task.status is TaskStatus.FAILED:
            return Failed(execution.error_type, execution.message, execution.traceback)
        return execution

    def _owner_role(self, run: TaskRun) -> Callable[[], bool] | None:
        read, owner = self.read_owner_role, run.owner_id
        if read is None or owner is None:
            return None
        return lambda: read.execute(owner)

    def _persist(self, write: Callable[[], T], *, attempts: int | None) -> T:
        """Retry a write through a database outage: `attempts` times, or until it is made
        or refused (None)."""
        delay = self.tuning.write_backoff
        attempt = 0
        while True:
            attempt += 1
            try:
                return write()
            except DependencyUnavailableError as exc:
                if attempts is not None and attempt >= attempts:
                    raise
                logger.warning("%s; retrying in %.2fs (try %d)", exc, delay, attempt)
                self.sleep(delay)
                delay = min(delay * 2, self.tuning.write_backoff_cap)


def _ended_elsewhere(status: str | None) -> Cancelled | TakenBack:
    """How a run ended that was stopped from outside, by the status it found its task in."""
    if status in (None, TaskStatus.CANCELLED.value, DELETED):
        return Cancelled()
    return TakenBack(status)

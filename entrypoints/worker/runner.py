"""Running one delivery of a task: claim, execute the task type's function, record the outcome.

The worker never writes a task's row itself: every step is a use case.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from celery.exceptions import SoftTimeLimitExceeded

from adapters.task_types.registry import TaskType, TaskTypeRegistry
from application.errors import DependencyUnavailableError, TaskCancelledError
from application.use_cases.check_run import CheckRun
from application.use_cases.complete_task import CompleteTask
from application.use_cases.fail_task import FailTask
from application.use_cases.record_heartbeat import RecordHeartbeat
from application.use_cases.report_progress import ReportProgress
from application.use_cases.retry_task import RetryTask
from application.use_cases.start_task import StartTask, TaskRun
from domain.errors import (
    ConflictError,
    DomainError,
    InvalidTransitionError,
    NotFoundError,
    StaleRunError,
)
from domain.task import Task, TaskId, TaskStatus
from entrypoints.logs import request_id_var, task_id_var
from entrypoints.worker.context import DELETED, WorkerTaskContext, status_found
from entrypoints.worker.watchdog import RunWatchdog, install_interrupt_handler

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Completed:
    result: Any
    message: str | None = None  # the final progress message


@dataclass(frozen=True)
class Failed:
    error_type: str
    message: str


@dataclass(frozen=True)
class Retried:
    error_type: str
    message: str
    countdown: float


@dataclass(frozen=True)
class Cancelled:
    pass


@dataclass(frozen=True)
class TakenBack:
    """The run lost its claim to something other than a cancellation, e.g. the reaper took
    the task back after this worker was silent too long: whatever it computed is discarded,
    and the task's next run redoes it. `status` is the task's status as the run found it."""

    status: str


Outcome = Completed | Failed | Retried | Cancelled | TakenBack


@dataclass(frozen=True)
class Skipped:
    """The delivery ran nothing: its task was not pending. `found` is the status it was in,
    "deleted" when it was gone, None when a concurrent write won the claim."""

    found: str | None


RunOutcome = Outcome | Skipped


class RunObserver(Protocol):
    """Told when a run starts and how it ended, e.g. to count runs (worker/metrics.py).
    Called on the run's thread: it must be quick and must never raise."""

    def started(self, run: TaskRun) -> None: ...

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None: ...


class Unobserved(RunObserver):
    def started(self, run: TaskRun) -> None:
        pass

    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None:
        pass


UNOBSERVED = Unobserved()


@dataclass(frozen=True)
class RunnerTuning:
    progress_interval: float = 0.5
    heartbeat_interval: float = 2.0
    poll_interval: float = 0.5
    cancel_grace: float = 1.0
    # The claim is tried this often (about 16 s with the backoff below); then the message
    # goes back to the broker (see `run`), so an outage never strands an unclaimed task.
    claim_attempts: int = 7
    write_backoff: float = 0.25
    # The outcome is retried until it is stored or refused, however long the outage: it is
    # the only copy of the result. Between tries at most `write_backoff_cap`, which must
    # stay below the reaper's stale_after: once the database is back, the reaper waits that
    # long before it may take the run back, and the write lands first.
    write_backoff_cap: float = 8.0


@dataclass(frozen=True)
class TaskRunner:
    registry: TaskTypeRegistry
    start_task: StartTask
    report_progress: ReportProgress
    check_run: CheckRun
    record_heartbeat: RecordHeartbeat
    complete_task: CompleteTask
    fail_task: FailTask
    retry_task: RetryTask
    tuning: RunnerTuning = RunnerTuning()
    observer: RunObserver = UNOBSERVED

    def run(self, task_id: TaskId) -> RunOutcome:
        """Run one delivery of `task_id`; returns what happened, as stored. Raises
        DependencyUnavailableError when the database did not answer the claim: nothing ran,
        and the delivery should go back to the broker."""
        task_token = task_id_var.set(str(task_id))
        try:
            return self._run(task_id)
        finally:
            task_id_var.reset(task_token)

    def _run(self, task_id: TaskId) -> RunOutcome:
        try:
            run = self._persist(
                lambda: self.start_task.execute(task_id), attempts=self.tuning.claim_attempts
            )
        except (NotFoundError, ConflictError) as exc:
            # Deleted, cancelled, or a duplicate delivery of a task another run has claimed.
            logger.info("task %s not started: %s", task_id, exc.detail)
            if isinstance(exc, NotFoundError):
                return Skipped("deleted")
            return Skipped(exc.from_ if isinstance(exc, InvalidTransitionError) else None)
        request_token = request_id_var.set(run.request_id)
        try:
            return self._run_claimed(run)
        finally:
            request_id_var.reset(request_token)

    def _run_claimed(self, run: TaskRun) -> Outcome:
        logger.info(
            "task %s (%s) started, attempt %d of %d",
            run.task_id,
            run.task_type,
            run.attempt,
            run.max_attempts,
        )
        self.observer.started(run)
        ctx = WorkerTaskContext(
            task_id=run.task_id,
            run_token=run.run_token,
            attempt=run.attempt,
            report_progress=self.report_progress,
            check_run=self.check_run,
            min_interval=self.tuning.progress_interval,
            owner_id=run.owner_id,
            owner_is_admin=run.owner_is_admin,
        )
        if threading.current_thread() is threading.main_thread():
            install_interrupt_handler()
        watchdog = RunWatchdog(
            ctx=ctx,
            heartbeat=self.record_heartbeat,
            check_run=self.check_run,
            heartbeat_interval=self.tuning.heartbeat_interval,
            poll_interval=self.tuning.poll_interval,
            grace=self.tuning.cancel_grace,
        )
        started = time.monotonic()
        with watchdog:
            outcome = self._record(run, ctx, self._execute(run, ctx))
        seconds = time.monotonic() - started
        self.observer.finished(run, outcome, seconds)
        kind = type(outcome).__name__.lower()
        logger.info("task %s (%s) %s in %.3fs", run.task_id, run.task_type, kind, seconds)
        return outcome

    def _execute(self, run: TaskRun, ctx: WorkerTaskContext) -> Outcome:
        task_type: TaskType | None = None
        try:
            task_type = self.registry.task_type(run.task_type)
            arguments = self.registry.parse(run.task_type, run.args, run.kwargs)
            result = task_type.function(ctx, arguments)
            json.dumps(result)
            return Completed(result, ctx.final_message())
        except TaskCancelledError:
            return _ended_elsewhere(ctx.over_because)
        except SoftTimeLimitExceeded:
            limit = task_type.soft_time_limit if task_type else None
            return Failed("TimeLimitExceeded", f"ran past its soft time limit ({limit}s)")
        except Exception as exc:
            message = exc.detail if isinstance(exc, DomainError) else str(exc)
            if task_type and isinstance(exc, task_type.retry_on):
                return Retried(type(exc).__name__, message, task_type.backoff(run.attempt))
            if isinstance(exc, TypeError | ValueError) and "JSON serializable" in str(exc):
                return Failed("ResultNotSerializable", message)
            if isinstance(exc, DomainError):
                # The caller's input was at fault (bad arguments, a missing file): expected,
                # so one line, no traceback; the task's error tells the caller why.
                logger.info("task %s (%s) failed: %s", run.task_id, run.task_type, message)
            else:
                logger.exception("task %s (%s) raised", run.task_id, run.task_type)
            return Failed(type(exc).__name__, message)

    def _record(self, run: TaskRun, ctx: WorkerTaskContext, outcome: Outcome) -> Outcome:
        """Store the outcome; returns it as stored (a refused write means the run was over)."""
        if isinstance(outcome, Cancelled | TakenBack):
            return outcome  # already stored: that is how the run learnt of it
        try:
            if not isinstance(outcome, Completed):
                ctx.flush()  # keep the last progress reported before the failure
            task = self._persist(lambda: self._write(run, outcome), attempts=None)
        except (TaskCancelledError, ConflictError, NotFoundError) as exc:
            logger.info("outcome of task %s discarded: %s", run.task_id, exc)
            found = status_found(exc) if isinstance(exc, StaleRunError | NotFoundError) else None
            return _ended_elsewhere(ctx.over_because or found)
        if isinstance(outcome, Retried) and task.status is TaskStatus.FAILED:
            return Failed(outcome.error_type, outcome.message)  # that was its last attempt
        return outcome

    def _write(self, run: TaskRun, outcome: Completed | Failed | Retried) -> Task:
        if isinstance(outcome, Completed):
            return self.complete_task.execute(
                run.task_id, run.run_token, outcome.result, outcome.message
            )
        if isinstance(outcome, Retried):
            return self.retry_task.execute(
                run.task_id,
                run.run_token,
                error_type=outcome.error_type,
                message=outcome.message,
                countdown=outcome.countdown,
            )
        return self.fail_task.execute(
            run.task_id, run.run_token, error_type=outcome.error_type, message=outcome.message
        )

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
                time.sleep(delay)
                delay = min(delay * 2, self.tuning.write_backoff_cap)


def _ended_elsewhere(status: str | None) -> Cancelled | TakenBack:
    """How a run ended that was stopped from outside, by the status it found its task in."""
    if status in (None, TaskStatus.CANCELLED.value, DELETED):
        return Cancelled()
    return TakenBack(status)

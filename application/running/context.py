"""The context a task type's function runs with: throttled progress and cancellation checks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from application.errors import DependencyUnavailableError, TaskCancelledError
from application.ports import TaskContext
from application.running.append_task_logs import AppendTaskLogs
from application.running.check_run import CheckRun
from application.running.report_progress import ReportProgress
from domain.attempt import LogLevel, TaskLogLine
from domain.errors import NotFoundError, StaleRunError, ValidationError
from domain.task import RunToken, TaskId
from domain.user import UserId

logger = logging.getLogger(__name__)

# The status a run reports for a task whose row is gone.
DELETED = "deleted"


@dataclass
class RunContext(TaskContext):
    """Progress is written at most once per `min_interval` (the latest value wins, and
    `flush` writes what is left), so a task reporting 10,000 times costs a bounded number of
    writes. A refused write means the run is over: the task sees TaskCancelledError. A
    database outage is not the task's failure: progress waits for the next write, a check
    passes (the watchdog checks too), and the run goes on to its result, which RunTask
    writes with retries. A completion writes no pending progress: it shows 100 percent and
    the `final_message`."""

    task_id: TaskId
    run_token: RunToken
    attempt: int
    report_progress: ReportProgress
    check_run: CheckRun
    min_interval: float = 0.5
    owner_id: UserId | None = None
    # Asked once, the first time the function wants to know (most never do): a read of the
    # owner on every claim was a statement per run for the files task types' sake.
    owner_role: Callable[[], bool] | None = None
    upstream: dict[str, dict[str, Any]] = field(default_factory=dict)
    monotonic: Callable[[], float] = time.monotonic
    # Log lines go nowhere without it (runs in tests that do not look at them).
    append_logs: AppendTaskLogs | None = None
    wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    writes: int = 0
    _cancelled: threading.Event = field(default_factory=threading.Event)
    # The task's status when the run learnt it was over: "cancelled", "deleted", or e.g.
    # "pending" when the reaper took it back.
    over_because: str | None = None
    _pending: tuple[int, str | None] | None = None
    _latest: tuple[int, str | None] | None = None
    _last_write: float = float("-inf")
    _last_check: float = float("-inf")
    _log_lines: list[TaskLogLine] = field(default_factory=list)
    _last_log_write: float = float("-inf")
    _log_lock: threading.Lock = field(default_factory=threading.Lock)
    _owner_is_admin: bool | None = None

    @property
    def owner_is_admin(self) -> bool:
        """Whether the owner is an administrator, as the database said when first asked
        during this run; not one if it cannot tell (confined, never widened)."""
        if self._owner_is_admin is None:
            try:
                self._owner_is_admin = self.owner_role() if self.owner_role else False
            except DependencyUnavailableError:
                return False
        return self._owner_is_admin

    def progress(self, percent: int, message: str | None = None) -> None:
        self._raise_if_cancelled()
        self._pending = self._latest = (percent, message)
        if self.monotonic() - self._last_write >= self.min_interval:
            self.flush()

    def check_cancelled(self) -> None:
        self._raise_if_cancelled()
        now = self.monotonic()
        if now - max(self._last_check, self._last_write) >= self.min_interval:
            self._last_check = now
            self._try_write(lambda: self.check_run.execute(self.task_id, self.run_token), "check")

    def log(self, message: str, *, level: str = "info") -> None:
        """Never raises for a run that is over: logging must not change how a task ends."""
        try:
            parsed = LogLevel(level.lower())
        except ValueError:
            raise ValidationError(
                f"level must be one of {', '.join(LogLevel)}", field="level"
            ) from None
        if self.append_logs is None:
            return
        line = TaskLogLine(self.task_id, self.attempt, parsed, str(message), self.wall_clock())
        with self._log_lock:
            self._log_lines.append(line)
        if self.monotonic() - self._last_log_write >= self.min_interval:
            self.flush_logs()

    def flush_logs(self) -> None:
        """Write the log lines kept since the last write; lost if the run is over."""
        with self._log_lock:
            lines, self._log_lines = self._log_lines, []
        if not lines or self.append_logs is None or self.cancelled:
            return
        append = self.append_logs
        self._last_log_write = self.monotonic()
        try:
            append.execute(self.task_id, self.run_token, lines)
        except (StaleRunError, NotFoundError) as exc:
            self.mark_over(status_found(exc))
        except DependencyUnavailableError as exc:
            logger.warning("log of task %s not written: %s", self.task_id, exc)
            with self._log_lock:
                self._log_lines[:0] = lines  # the next write tries again

    def flush(self) -> None:
        """Write the latest unwritten progress, if any."""
        if self._pending is None:
            return
        percent, message = self._pending
        self._pending = None
        self._last_write = self.monotonic()
        self.writes += 1
        written = self._try_write(
            lambda: self.report_progress.execute(self.task_id, self.run_token, percent, message),
            "progress",
        )
        if not written and self._pending is None:
            self._pending = (percent, message)  # the next write tries again

    def mark_over(self, status: str | None) -> None:
        """Called when a write or the watchdog learns the run is over; `status` is the
        task's, as found then."""
        if self.over_because is None:
            self.over_because = status
        self._cancelled.set()

    def final_message(self) -> str | None:
        """The progress message a completion shows: the latest report's, written or not,
        if it was made at 100 percent; a message of an unfinished stage would be stale."""
        if self._latest is None or self._latest[0] < 100:
            return None
        return self._latest[1]

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise TaskCancelledError("the task was cancelled", task_id=str(self.task_id))

    def _try_write(self, write: Callable[[], None], what: str) -> bool:
        """Whether the write was made; TaskCancelledError if it was refused."""
        try:
            write()
        except (StaleRunError, NotFoundError) as exc:
            self.mark_over(status_found(exc))
            raise TaskCancelledError("the task was cancelled", task_id=str(self.task_id)) from None
        except DependencyUnavailableError as exc:
            logger.warning("%s of task %s not written: %s", what, self.task_id, exc)
            return False
        return True


def status_found(refusal: StaleRunError | NotFoundError) -> str | None:
    """The task's status a refused write of a run found."""
    if isinstance(refusal, NotFoundError):
        return DELETED
    status = refusal.context.get("status")
    return str(status) if status is not None else None

"""The context a task type's function runs with: throttled progress and cancellation checks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from application.errors import TaskCancelledError
from application.use_cases.check_run import CheckRun
from application.use_cases.report_progress import ReportProgress
from domain.errors import NotFoundError, StaleRunError
from domain.task import RunToken, TaskId


@dataclass
class WorkerTaskContext:
    """Progress is written at most once per `min_interval` (the latest value wins, and
    `flush` writes what is left), so a task reporting 10,000 times costs a bounded number of
    writes. A refused write means the run is over: the task sees TaskCancelledError."""

    task_id: TaskId
    run_token: RunToken
    attempt: int
    report_progress: ReportProgress
    check_run: CheckRun
    min_interval: float = 0.5
    monotonic: Callable[[], float] = time.monotonic
    writes: int = 0
    _cancelled: threading.Event = field(default_factory=threading.Event)
    _pending: tuple[int, str | None] | None = None
    _last_write: float = float("-inf")
    _last_check: float = float("-inf")

    def progress(self, percent: int, message: str | None = None) -> None:
        self._raise_if_cancelled()
        self._pending = (percent, message)
        if self.monotonic() - self._last_write >= self.min_interval:
            self.flush()

    def check_cancelled(self) -> None:
        self._raise_if_cancelled()
        now = self.monotonic()
        if now - max(self._last_check, self._last_write) >= self.min_interval:
            self._last_check = now
            self._ending_run_on_stale(lambda: self.check_run.execute(self.task_id, self.run_token))

    def flush(self) -> None:
        """Write the latest unwritten progress, if any."""
        if self._pending is None:
            return
        percent, message = self._pending
        self._pending = None
        self._last_write = self.monotonic()
        self.writes += 1
        self._ending_run_on_stale(
            lambda: self.report_progress.execute(self.task_id, self.run_token, percent, message)
        )

    def mark_cancelled(self) -> None:
        """Called by the watchdog when it learns the run is over."""
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def _raise_if_cancelled(self) -> None:
        if self._cancelled.is_set():
            raise TaskCancelledError("the task was cancelled", task_id=str(self.task_id))

    def _ending_run_on_stale(self, write: Callable[[], None]) -> None:
        try:
            write()
        except (StaleRunError, NotFoundError):
            self._cancelled.set()
            raise TaskCancelledError("the task was cancelled", task_id=str(self.task_id)) from None

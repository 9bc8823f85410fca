"""A task's history: each run it had (an attempt) and the log lines its runs wrote."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.task import Task, TaskError, TaskId, TaskStatus, WorkerId


class AttemptOutcome(enum.StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    RETRIED = "retried"  # ended without a result, the task went back to pending
    CANCELLED = "cancelled"


_OUTCOME_OF_STATUS = {
    TaskStatus.COMPLETED: AttemptOutcome.COMPLETED,
    TaskStatus.FAILED: AttemptOutcome.FAILED,
    TaskStatus.PENDING: AttemptOutcome.RETRIED,
    TaskStatus.CANCELLED: AttemptOutcome.CANCELLED,
}


@dataclass(frozen=True, slots=True)
class Attempt:
    """One run of a task, as it ended: who ran it, when, and how it came out."""

    task_id: TaskId
    number: int
    worker: WorkerId | None
    started_at: datetime | None
    ended_at: datetime
    outcome: AttemptOutcome
    error: TaskError | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return max((self.ended_at - self.started_at).total_seconds(), 0.0)

    @classmethod
    def ended(cls, task: Task, *, at: datetime) -> Attempt:
        """The attempt `task` has just left (its latest), by the status it left it in."""
        outcome = _OUTCOME_OF_STATUS[task.status]
        failed = outcome in (AttemptOutcome.FAILED, AttemptOutcome.RETRIED)
        return cls(
            task_id=task.id,
            number=task.attempts,
            worker=task.worker,
            started_at=task.started_at,
            ended_at=at,
            outcome=outcome,
            error=task.error if failed else None,
        )


class LogLevel(enum.StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


MAX_LOG_MESSAGE_LENGTH = 4000


@dataclass(frozen=True, slots=True)
class TaskLogLine:
    """A line a run of the task logged. `seq` orders a task's lines; given when stored."""

    task_id: TaskId
    attempt: int
    level: LogLevel
    message: str
    logged_at: datetime
    seq: int | None = None

    def __post_init__(self) -> None:
        if len(self.message) > MAX_LOG_MESSAGE_LENGTH:
            clipped = self.message[: MAX_LOG_MESSAGE_LENGTH - 20] + " ... (clipped)"
            object.__setattr__(self, "message", clipped)

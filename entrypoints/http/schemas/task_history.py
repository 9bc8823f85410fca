"""What the API shows of a task's history: its attempts and its log lines."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from domain.attempt import Attempt, AttemptOutcome, LogLevel, TaskLogLine
from entrypoints.http.schemas.tasks import TaskErrorResponse


class AttemptResponse(BaseModel):
    number: int = Field(description="1 for the first run, counting every run the task had.")
    worker_host: str | None = None
    worker_pid: int | None = None
    started_at: datetime | None = None
    ended_at: datetime
    duration_seconds: float | None = None
    outcome: AttemptOutcome = Field(
        description="retried: the run ended without a result and the task was queued again "
        "(its error says why, WorkerLostError when its worker went silent)."
    )
    error: TaskErrorResponse | None = None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptResponse:
        return cls(
            number=attempt.number,
            worker_host=attempt.worker.host if attempt.worker else None,
            worker_pid=attempt.worker.pid if attempt.worker else None,
            started_at=attempt.started_at,
            ended_at=attempt.ended_at,
            duration_seconds=attempt.duration_seconds,
            outcome=attempt.outcome,
            error=TaskErrorResponse.of(attempt.error),
        )


class AttemptList(BaseModel):
    task_id: UUID
    items: list[AttemptResponse]


class TaskLogLineResponse(BaseModel):
    seq: int = Field(description="The line's place in the task's log.")
    attempt: int
    level: LogLevel
    message: str
    logged_at: datetime

    @classmethod
    def of(cls, line: TaskLogLine) -> TaskLogLineResponse:
        return cls(
            seq=line.seq or 0,
            attempt=line.attempt,
            level=line.level,
            message=line.message,
            logged_at=line.logged_at,
        )


class TaskLogPageResponse(BaseModel):
    task_id: UUID
    task_status: str = Field(description="The task's status when the page was read.")
    items: list[TaskLogLineResponse]
    next_cursor: str | None = Field(
        None,
        description="Pass as `cursor` for the lines after these, now or later (a running "
        "task's log grows).",
    )

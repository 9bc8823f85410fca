"""What a claimed run is, and every way a delivery of a task can end."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.task import RunToken, TaskId
from domain.user import UserId
from domain.workflow import WorkflowId


@dataclass(frozen=True, slots=True)
class TaskRun:
    """What a worker needs to execute one claimed run; `run_token` signs its later writes."""

    task_id: TaskId
    run_token: RunToken
    task_type: str
    queue: str
    args: list[Any]
    kwargs: dict[str, Any]
    attempt: int
    max_attempts: int
    request_id: str | None = None
    # Whose task it is: a task reads files only in its owner's folder (an admin's, anywhere).
    owner_id: UserId | None = None
    # A workflow's task: key -> how each task it depends on ended ({"status", "result",
    # "error"}), and the size of that as JSON.
    upstream: dict[str, dict[str, Any]] = field(default_factory=dict)
    upstream_bytes: int = 0
    workflow_id: WorkflowId | None = None


@dataclass(frozen=True)
class Completed:
    result: Any
    message: str | None = None  # the final progress message


@dataclass(frozen=True)
class Failed:
    error_type: str
    message: str
    traceback: str | None = None


@dataclass(frozen=True)
class Retried:
    error_type: str
    message: str
    countdown: float
    traceback: str | None = None


@dataclass(frozen=True)
class Cancelled:
    pass


@dataclass(frozen=True)
class TakenBack:
    """The run lost its claim to something other than a cancellation, e.g. the reaper took
    the task back after this worker was silent too long: whatever it computed is discarded,
    and the task's next run redoes it. `status` is the task's status as the run found it."""

    status: str


# What executing a task type's function comes to, before it is stored.
Execution = Completed | Failed | Retried
Outcome = Completed | Failed | Retried | Cancelled | TakenBack


@dataclass(frozen=True)
class Skipped:
    """The delivery ran nothing: its task was not pending. `found` is the status it was in,
    "deleted" when it was gone, None when a concurrent write won the claim."""

    found: str | None


RunOutcome = Outcome | Skipped

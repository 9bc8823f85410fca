"""Task request and response bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from application.secret_values import MASK, masked
from application.submission import TaskSubmission
from application.use_cases.explain_wait import Wait, WaitReason
from domain.model import ModelId
from domain.task import Priority, Task, TaskError, TaskStatus
from entrypoints.http.schemas.common import PlainText, StrictRequest


class SubmitTaskRequest(StrictRequest):
    name: PlainText = Field(min_length=1, max_length=200)
    task_type: PlainText = Field(min_length=1, max_length=100, examples=["noop"])
    priority: Priority | None = Field(None, description="Defaults to the task type's priority.")
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)
    model_id: UUID | None = None
    concurrency_key: PlainText | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Only for task types that take one (see GET /task-types): at most the "
        "type's limit of tasks with the same key run at once; the others wait, pending.",
    )
    run_at: AwareDatetime | None = Field(
        None,
        description="Publish the task only at this time (RFC 3339 with an offset); a time "
        "past runs now, more than a year ahead is refused.",
        examples=["2026-12-24T18:00:00+01:00"],
    )
    delay_seconds: float | None = Field(
        None,
        ge=0,
        le=365 * 86400,
        description="Publish the task this many seconds from now (instead of run_at).",
    )
    callback_url: str | None = Field(
        None,
        min_length=1,
        max_length=2048,
        description="POSTed the task's end (task.completed, task.failed or task.cancelled) "
        "as a signed webhook, with retries; signed with your callback secret (POST "
        "/api/v1/webhooks/callback-secret), which must exist.",
        examples=["https://example.com/hooks/task-ended"],
    )

    @model_validator(mode="after")
    def _one_time_at_most(self) -> SubmitTaskRequest:
        if self.run_at is not None and self.delay_seconds is not None:
            raise ValueError("give run_at or delay_seconds, not both")
        return self

    def start_time(self) -> datetime | None:
        if self.delay_seconds is not None:
            return datetime.now(UTC) + timedelta(seconds=self.delay_seconds)
        return self.run_at

    def submission(self) -> TaskSubmission:
        return TaskSubmission(
            name=self.name,
            task_type=self.task_type,
            priority=self.priority,
            args=self.args,
            kwargs=self.kwargs,
            model_id=ModelId(self.model_id) if self.model_id else None,
            concurrency_key=self.concurrency_key,
            run_at=self.start_time(),
            callback_url=self.callback_url,
        )


class SubmitTaskBatchRequest(StrictRequest):
    tasks: list[SubmitTaskRequest] = Field(
        min_length=1,
        description="Each as for POST /tasks; at most TASKHUB_MAX_BATCH_SIZE (500 by default).",
    )

    def submissions(self) -> list[TaskSubmission]:
        return [task.submission() for task in self.tasks]


class UpdateTaskRequest(StrictRequest):
    name: PlainText | None = Field(None, min_length=1, max_length=200)
    priority: Priority | None = None
    run_at: AwareDatetime | None = Field(
        None, description="A new time for a delayed task that has not been published yet."
    )


class TaskErrorResponse(BaseModel):
    type: str
    message: str
    traceback: str | None = Field(
        None,
        description="Where the error was raised, its end kept up to TASKHUB_TRACEBACK_MAX_CHARS; "
        "none for an error in the task's input.",
    )

    @classmethod
    def of(cls, error: TaskError | None) -> TaskErrorResponse | None:
        if error is None:
            return None
        return cls(type=error.type, message=error.message, traceback=error.traceback)


class WaitingResponse(BaseModel):
    """Why a pending task has not started yet."""

    reason: WaitReason = Field(
        description="queued: its message waits in its queue; delayed: its run_at or a retry's "
        "backoff; "
        "concurrency: its concurrency key's slots are all taken; "
        "fair_share: its queue is crowded and it is released round-robin with other owners' "
        "tasks; rate_limit: its task type's rate limit. (No stored task waits for a quota: a "
        "submission over it is refused with 429.)"
    )
    queue: str
    position: int | None = Field(
        None,
        description="queued: dispatched tasks of the queue due before this one; fair_share: "
        "the owner's own tasks held before this one; rate_limit: the type's tasks held before "
        "this one.",
    )
    until: datetime | None = Field(None, description="delayed: when the backoff ends.")
    concurrency_key: str | None = None
    holders: int | None = Field(
        None, description="concurrency: tasks of the key running or on their way to a worker."
    )
    limit: int | None = Field(None, description="concurrency: how many may at once.")
    rate_limit: str | None = Field(None, description='rate_limit: the type\'s limit, "10/s".')

    @classmethod
    def of(cls, wait: Wait) -> WaitingResponse:
        return cls(
            reason=wait.reason,
            queue=wait.queue,
            position=wait.position,
            until=wait.until,
            concurrency_key=wait.concurrency_key,
            holders=wait.holders,
            limit=wait.limit,
            rate_limit=wait.rate_limit,
        )


class TaskResponse(BaseModel):
    id: UUID
    name: str
    task_type: str
    status: TaskStatus
    priority: Priority
    queue: str
    args: list[Any]
    kwargs: dict[str, Any] = Field(
        description=f'Secret arguments read "{MASK}", whatever their value.'
    )
    result: Any = Field(
        None,
        description=f'A secret result reads "{MASK}": its owner reads it through '
        "GET /tasks/{id}/result.",
    )
    error: TaskErrorResponse | None = None
    progress: int = Field(ge=0, le=100)
    progress_message: str | None = None
    attempts: int
    max_attempts: int
    user_id: UUID
    model_id: UUID | None = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    request_id: str | None = Field(
        None, description="The id of the request that submitted the task (X-Request-ID)."
    )
    concurrency_key: str | None = Field(
        None, description="The key whose slots the task needs (its type's scope, a colon, the key)."
    )
    waiting: WaitingResponse | None = Field(
        None, description="GET /tasks/{id} of a pending task: what it is waiting for."
    )
    run_at: datetime | None = Field(None, description="A delayed task's time.")
    schedule_id: UUID | None = Field(None, description="The schedule that fired the task.")
    fire_time: datetime | None = Field(None, description="The fire time that created it.")
    workflow_id: UUID | None = Field(None, description="The workflow the task belongs to.")
    key: str | None = Field(None, description="The task's key in its workflow.")
    depends_on: list[str] = Field(
        default_factory=list, description="Keys of the tasks of its workflow it waits for."
    )
    waiting_for: list[str] | None = Field(
        None,
        description="While the task is waiting: the keys of its dependencies not yet "
        "completed (GET /tasks/{id} and the workflow's own listing).",
    )
    trace_id: str | None = Field(
        None, description="The OpenTelemetry trace of the submission, when tracing is on."
    )
    retry_of: UUID | None = Field(None, description="The task this one re-runs.")

    @classmethod
    def of(
        cls, task: Task, *, waiting_for: list[str] | None = None, waiting: Wait | None = None
    ) -> TaskResponse:
        return cls(
            id=task.id,
            name=task.name,
            task_type=task.task_type,
            status=task.status,
            priority=task.priority,
            queue=task.queue,
            args=masked(task.args),
            kwargs=masked(task.kwargs),
            result=masked(task.result),
            error=TaskErrorResponse.of(task.error),
            progress=task.progress.percent,
            progress_message=task.progress_message,
            attempts=task.attempts,
            max_attempts=task.max_attempts,
            user_id=task.user_id,
            model_id=task.model_id,
            created_at=task.created_at,
            started_at=task.started_at,
            completed_at=task.completed_at,
            request_id=task.request_id,
            concurrency_key=task.concurrency.key if task.concurrency else None,
            waiting=WaitingResponse.of(waiting) if waiting else None,
            run_at=task.run_at,
            schedule_id=task.schedule_id,
            fire_time=task.fire_time,
            workflow_id=task.workflow_id,
            key=task.workflow_key,
            depends_on=list(task.depends_on),
            waiting_for=waiting_for,
            trace_id=task.trace_id,
            retry_of=task.retry_of,
        )


class TaskBatchResponse(BaseModel):
    items: list[TaskResponse] = Field(description="The tasks, in the order submitted.")


class TaskResultResponse(BaseModel):
    id: UUID
    result: Any = Field(
        None, description="The result as the task returned it, a secret one in clear."
    )


class TaskPage(BaseModel):
    items: list[TaskResponse]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")


class TaskTypeResponse(BaseModel):
    name: str
    description: str
    queue: str
    default_priority: Priority
    max_attempts: int
    soft_time_limit: float | None = None
    time_limit: float | None = None
    max_arguments_bytes: int = Field(
        description="The most args or kwargs may each take as compact JSON, whatever the "
        "schema allows; the server's TASKHUB_MAX_ARGUMENTS_BYTES."
    )
    max_arguments_depth: int = Field(
        description="How deeply args or kwargs may nest lists and objects; the server's "
        "TASKHUB_MAX_ARGUMENTS_DEPTH."
    )
    arguments_schema: dict[str, Any]

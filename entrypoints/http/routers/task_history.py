"""A task's story: its attempts, its log, and re-running it."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status

from domain.task import TaskId
from entrypoints.http.dependencies import CurrentUser
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.task_history import (
    AttemptList,
    AttemptResponse,
    TaskLogLineResponse,
    TaskLogPageResponse,
)
from entrypoints.http.schemas.tasks import TaskResponse
from entrypoints.http.use_cases import (
    ListTaskAttemptsUseCase,
    ListTaskLogsUseCase,
    RerunTaskUseCase,
)
from entrypoints.logs import request_id_var
from entrypoints.tracing import current_trace_id

router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get(
    "/{task_id}/attempts",
    operation_id="list_task_attempts",
    responses=problem_responses(401, 404, 422),
)
def list_task_attempts(
    task_id: UUID,
    user: CurrentUser,
    attempts: ListTaskAttemptsUseCase,
) -> AttemptList:
    """Every run the task had, first first, as each ended; a run in progress is not listed."""
    items = attempts.execute(user, TaskId(task_id))
    return AttemptList(task_id=task_id, items=[AttemptResponse.of(a) for a in items])


@router.get(
    "/{task_id}/logs", operation_id="list_task_logs", responses=problem_responses(401, 404, 422)
)
def list_task_logs(
    task_id: UUID,
    user: CurrentUser,
    logs: ListTaskLogsUseCase,
    cursor: str | None = None,
    limit: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> TaskLogPageResponse:
    """What the task's runs logged (ctx.log, and the task module's logging), oldest first;
    a task keeps its newest TASKHUB_TASK_LOG_MAX_LINES lines."""
    page = logs.execute(user, TaskId(task_id), cursor=cursor, limit=limit)
    return TaskLogPageResponse(
        task_id=task_id,
        task_status=page.task.status.value,
        items=[TaskLogLineResponse.of(line) for line in page.lines],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/{task_id}/retry",
    status_code=status.HTTP_201_CREATED,
    operation_id="retry_task",
    responses=problem_responses(401, 404, 409, 422, 429, 503),
)
def retry_task(task_id: UUID, user: CurrentUser, rerun: RerunTaskUseCase) -> TaskResponse:
    """Run a failed or cancelled task again, as a new task (same type, arguments, priority)
    whose `retry_of` names this one, which is left as it was; 409 for any other status."""
    return TaskResponse.of(
        rerun.execute(
            user, TaskId(task_id), request_id=request_id_var.get(), trace_id=current_trace_id()
        )
    )

"""Tasks: submit, read, list, change, cancel, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from anyio import CapacityLimiter, to_thread
from fastapi import APIRouter, Query, Request, Response, status

from domain.model import ModelId
from domain.task import Priority, TaskId, TaskStatus
from domain.user import UserId
from entrypoints.http.dependencies import Caller, CurrentUser
from entrypoints.http.idempotency import IdempotencyKeyHeader, claim_of, mark_replayed
from entrypoints.http.schemas.common import PlainText, problem_responses
from entrypoints.http.schemas.tasks import (
    SubmitTaskBatchRequest,
    SubmitTaskRequest,
    TaskBatchResponse,
    TaskPage,
    TaskResponse,
    TaskResultResponse,
    UpdateTaskRequest,
)
from entrypoints.http.use_cases import (
    CancelTaskUseCase,
    DeleteTaskUseCase,
    ExplainWaitUseCase,
    GetTaskResultUseCase,
    GetTaskUseCase,
    ListTasksUseCase,
    SubmitTaskBatchUseCase,
    SubmitTaskUseCase,
    UpdateTaskUseCase,
)
from entrypoints.logs import request_id_var
from entrypoints.tracing import current_trace_id

router = APIRouter(prefix="/tasks", tags=["tasks"])

# A batch is about a fifth of a second of Python on the GIL, so batches run side by side on
# threads finish no sooner than one after another; they only hold more at once (about 8 KB
# a task: request, entities, rows, response), and what a process's heap grew to stays
# after the burst. One at a time, an API process ends a burst of four concurrent batch
# clients some megabytes smaller, for the same tasks a second.
BATCHES_AT_ONCE = CapacityLimiter(1)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="submit_task",
    responses=problem_responses(401, 404, 409, 422, 429, 503),
)
def submit_task(
    body: SubmitTaskRequest,
    caller: Caller,
    submit: SubmitTaskUseCase,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskResponse:
    """Store the task and queue it; with `run_at` or `delay_seconds`, queue it only then.
    Unknown task types and bad arguments are refused (422). With an `Idempotency-Key`, a
    retry returns the task the first request created."""
    task, replayed = submit.execute_once(
        caller,
        claim_of(request, idempotency_key, body),
        name=body.name,
        task_type=body.task_type,
        priority=body.priority,
        args=body.args,
        kwargs=body.kwargs,
        model_id=ModelId(body.model_id) if body.model_id else None,
        request_id=request_id_var.get(),
        concurrency_key=body.concurrency_key,
        run_at=body.start_time(),
        trace_id=current_trace_id(),
        callback_url=body.callback_url,
    )
    mark_replayed(response, replayed)
    return TaskResponse.of(task)


@router.post(
    "/batch",
    status_code=status.HTTP_201_CREATED,
    operation_id="submit_task_batch",
    responses=problem_responses(401, 409, 422, 429, 503),
)
async def submit_task_batch(
    body: SubmitTaskBatchRequest,
    user: CurrentUser,
    submit: SubmitTaskBatchUseCase,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKeyHeader = None,
) -> TaskBatchResponse:
    """Store up to 500 tasks in one transaction and queue them: all or none. Any invalid
    task refuses the whole batch (422), whose `errors` name each one's field by position,
    e.g. `tasks[3].kwargs.seconds`; the quota must hold the whole batch (429)."""

    def store_and_queue() -> TaskBatchResponse:
        tasks, replayed = submit.execute_once(
            user,
            claim_of(request, idempotency_key, body),  # hashes the whole body: not on the loop
            body.submissions(),
            request_id=request_id_var.get(),
            trace_id=current_trace_id(),
        )
        mark_replayed(response, replayed)
        return TaskBatchResponse(items=[TaskResponse.of(task) for task in tasks])

    # Waiting for its turn here holds no thread of the pool, which single requests share.
    return await to_thread.run_sync(store_and_queue, limiter=BATCHES_AT_ONCE)


@router.get("", operation_id="list_tasks", responses=problem_responses(401, 403, 422))
def list_tasks(
    user: CurrentUser,
    list_tasks: ListTasksUseCase,
    status: TaskStatus | None = None,
    task_type: PlainText | None = None,
    priority: Priority | None = None,
    model_id: UUID | None = None,
    name: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="Part of the name, in any case."),
    ] = None,
    created_after: Annotated[
        datetime | None,
        Query(description="Created strictly after this time (ISO 8601, with a time zone)."),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Query(description="Created strictly before this time (ISO 8601, with a time zone)."),
    ] = None,
    user_id: Annotated[
        UUID | None, Query(description="Admins only: that user's tasks instead of everyone's.")
    ] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> TaskPage:
    """Your tasks (an admin's: everyone's), newest first; follow `next_cursor` for more.
    Filters combine; a query parameter not listed here is refused (422), never ignored."""
    page = list_tasks.execute(
        user,
        limit=limit,
        cursor=cursor,
        status=status,
        task_type=task_type,
        priority=priority,
        model_id=ModelId(model_id) if model_id else None,
        name=name,
        created_after=created_after,
        created_before=created_before,
        user_id=UserId(user_id) if user_id else None,
    )
    return TaskPage(items=[TaskResponse.of(t) for t in page.items], next_cursor=page.next_cursor)


@router.get("/{task_id}", operation_id="get_task", responses=problem_responses(401, 404, 422))
def get_task(
    task_id: UUID, user: CurrentUser, get: GetTaskUseCase, explain: ExplainWaitUseCase
) -> TaskResponse:
    """The task; a pending one says in `waiting` what it waits for, and a workflow's task in
    `waiting_for` which of its dependencies have not finished."""
    _, wait = explain.execute(user, TaskId(task_id))
    task, waiting_for = get.with_waits(user, TaskId(task_id))
    return TaskResponse.of(task, waiting_for=waiting_for, waiting=wait)


@router.get(
    "/{task_id}/result", operation_id="get_task_result", responses=problem_responses(401, 404, 422)
)
def get_task_result(
    task_id: UUID, user: CurrentUser, read: GetTaskResultUseCase, response: Response
) -> TaskResultResponse:
    """The task's result, a secret one in clear: for the task's owner only (anyone else's
    task is not found, an admin's included). Never cached (`Cache-Control: no-store`)."""
    result = read.execute(user, TaskId(task_id))
    response.headers["Cache-Control"] = "no-store"
    return TaskResultResponse(id=task_id, result=result)


@router.patch(
    "/{task_id}", operation_id="update_task", responses=problem_responses(401, 404, 409, 422)
)
def update_task(
    task_id: UUID,
    body: UpdateTaskRequest,
    user: CurrentUser,
    update: UpdateTaskUseCase,
) -> TaskResponse:
    """Rename or re-prioritise a task; only while it is pending (409 otherwise). `run_at`
    moves a delayed task while it still waits (409 once published)."""
    task = update.execute(
        user, TaskId(task_id), name=body.name, priority=body.priority, run_at=body.run_at
    )
    return TaskResponse.of(task)


@router.post(
    "/{task_id}/cancel", operation_id="cancel_task", responses=problem_responses(401, 404, 409, 422)
)
def cancel_task(task_id: UUID, user: CurrentUser, cancel: CancelTaskUseCase) -> TaskResponse:
    """Cancel a pending or running task; 409 when it has already finished."""
    return TaskResponse.of(cancel.execute(user, TaskId(task_id)))


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_task",
    responses=problem_responses(401, 404, 409, 422),
)
def delete_task(task_id: UUID, user: CurrentUser, delete: DeleteTaskUseCase) -> Response:
    """Delete a task. A pending or running task is cancelled first, so it never runs (on)."""
    delete.execute(user, TaskId(task_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)

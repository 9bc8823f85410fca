"""Workflows: submit (or plan), read, list, cancel, retry, delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from domain.workflow import WorkflowId, WorkflowStatus
from entrypoints.http.dependencies import CurrentUser
from entrypoints.http.idempotency import IdempotencyKeyHeader, claim_of, mark_replayed
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.workflows import (
    SubmitWorkflowRequest,
    WorkflowPage,
    WorkflowPlanResponse,
    WorkflowResponse,
)
from entrypoints.http.use_cases import (
    CancelWorkflowUseCase,
    DeleteWorkflowUseCase,
    GetWorkflowUseCase,
    ListWorkflowsUseCase,
    RetryWorkflowUseCase,
    SubmitWorkflowUseCase,
)
from entrypoints.logs import request_id_var

router = APIRouter(prefix="/workflows", tags=["workflows"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="submit_workflow",
    responses={
        200: {"model": WorkflowPlanResponse, "description": "The plan of a dry run."},
        **problem_responses(401, 409, 422, 429, 503),
    },
)
def submit_workflow(
    body: SubmitWorkflowRequest,
    user: CurrentUser,
    response: Response,
    submit: SubmitWorkflowUseCase,
    request: Request,
    dry_run: Annotated[
        bool, Query(description="Check and plan only (200 with the plan); store nothing.")
    ] = False,
    idempotency_key: IdempotencyKeyHeader = None,
) -> WorkflowResponse | WorkflowPlanResponse:
    """Store the workflow and its tasks in one transaction: all or nothing. The tasks
    without dependencies are queued; the others wait until every task they depend on has
    completed. A cycle, an unknown or duplicate key, a dependency on itself or an invalid
    task is refused (422) naming its field, e.g. `tasks[3].depends_on`. With an
    `Idempotency-Key`, a retry returns the workflow the first request created."""
    if dry_run:
        response.status_code = status.HTTP_200_OK
        plan = submit.plan(
            user, name=body.name, tasks=body.submissions(), on_failure=body.on_failure
        )
        return WorkflowPlanResponse.of(plan)
    view, replayed = submit.execute_once(
        user,
        claim_of(request, idempotency_key, body),
        name=body.name,
        tasks=body.submissions(),
        on_failure=body.on_failure,
        request_id=request_id_var.get(),
        callback_url=body.callback_url,
    )
    mark_replayed(response, replayed)
    return WorkflowResponse.of(view)


@router.get("", operation_id="list_workflows", responses=problem_responses(401, 403, 422))
def list_workflows(
    user: CurrentUser,
    list_workflows: ListWorkflowsUseCase,
    status: WorkflowStatus | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> WorkflowPage:
    """Your workflows (an admin's: everyone's), newest first; follow `next_cursor`."""
    page = list_workflows.execute(user, limit=limit, cursor=cursor, status=status)
    return WorkflowPage(
        items=[WorkflowResponse.of(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{workflow_id}", operation_id="get_workflow", responses=problem_responses(401, 404, 422)
)
def get_workflow(workflow_id: UUID, user: CurrentUser, get: GetWorkflowUseCase) -> WorkflowResponse:
    return WorkflowResponse.of(get.execute(user, WorkflowId(workflow_id)))


@router.post(
    "/{workflow_id}/cancel",
    operation_id="cancel_workflow",
    responses=problem_responses(401, 404, 409, 422),
)
def cancel_workflow(
    workflow_id: UUID,
    user: CurrentUser,
    cancel: CancelWorkflowUseCase,
) -> WorkflowResponse:
    """Cancel every task not yet finished (running ones stop); 409 when it has finished."""
    return WorkflowResponse.of(cancel.execute(user, WorkflowId(workflow_id)))


@router.post(
    "/{workflow_id}/retry",
    operation_id="retry_workflow",
    responses=problem_responses(401, 404, 409, 422, 429),
)
def retry_workflow(
    workflow_id: UUID,
    user: CurrentUser,
    retry: RetryWorkflowUseCase,
) -> WorkflowResponse:
    """Resume a failed or cancelled workflow: its failed and cancelled tasks and everything
    below them run again as new tasks; completed tasks keep their results. 409 otherwise."""
    return WorkflowResponse.of(retry.execute(user, WorkflowId(workflow_id)))


@router.delete(
    "/{workflow_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_workflow",
    responses=problem_responses(401, 404, 409, 422),
)
def delete_workflow(
    workflow_id: UUID,
    user: CurrentUser,
    delete: DeleteWorkflowUseCase,
) -> Response:
    """Delete a finished workflow and its tasks; 409 while it runs."""
    delete.execute(user, WorkflowId(workflow_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)

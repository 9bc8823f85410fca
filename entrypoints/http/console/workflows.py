"""The console's workflow pages: the list, and a workflow's graph and tasks with their
statuses (live), cancel, resume and delete. Each calls the use case the REST route calls."""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from domain.errors import ValidationError
from domain.workflow import WorkflowId, WorkflowStatus
from entrypoints.http.console.drawings import workflow_graph
from entrypoints.http.console.rendering import console_router, is_fragment, render, see
from entrypoints.http.console.session import CheckedForm, SignedInUser
from entrypoints.http.use_cases import (
    CancelWorkflowUseCase,
    DeleteWorkflowUseCase,
    GetWorkflowUseCase,
    ListWorkflowsUseCase,
    RetryWorkflowUseCase,
)

router = console_router()


def _status(value: str) -> WorkflowStatus | None:
    try:
        return WorkflowStatus(value) if value else None
    except ValueError:
        known = ", ".join(member.value for member in WorkflowStatus)
        raise ValidationError(f"status must be one of {known}", field="status") from None


@router.get("/workflows")
def workflow_list(
    request: Request,
    user: SignedInUser,
    list_workflows: ListWorkflowsUseCase,
    status: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """Newest first: the user's own (an admin's: everyone's)."""
    page = list_workflows.execute(user, cursor=cursor or None, status=_status(status))
    context = {
        "workflows": page.items,
        "next_cursor": page.next_cursor,
        "status": status,
        "statuses": list(WorkflowStatus),
    }
    return render(request, "workflows.html", context)


@router.get("/workflows/{workflow_id}")
def workflow_page(
    request: Request,
    workflow_id: UUID,
    user: SignedInUser,
    get: GetWorkflowUseCase,
) -> HTMLResponse:
    """The graph, each task in its status's colour and mark, and the same tasks as a table;
    live while the workflow runs."""
    view = get.execute(user, WorkflowId(workflow_id))
    context = {
        "view": view,
        "graph": workflow_graph(view),
        # The stream carries the user's own tasks: another's workflow (an admin) polls.
        "events_url": "/ui/events" if view.workflow.user_id == user.id else None,
    }
    return render(
        request, "_workflow_detail.html" if is_fragment(request) else "workflow.html", context
    )


@router.post("/workflows/{workflow_id}/cancel")
def cancel(
    workflow_id: UUID, user: SignedInUser, _: CheckedForm, cancel: CancelWorkflowUseCase
) -> Response:
    cancel.execute(user, WorkflowId(workflow_id))
    return see(f"/ui/workflows/{workflow_id}")


@router.post("/workflows/{workflow_id}/resume")
def resume(
    workflow_id: UUID, user: SignedInUser, _: CheckedForm, retry: RetryWorkflowUseCase
) -> Response:
    """The REST API's retry: failed and cancelled tasks and those below them run again."""
    retry.execute(user, WorkflowId(workflow_id))
    return see(f"/ui/workflows/{workflow_id}")


@router.post("/workflows/{workflow_id}/delete")
def delete(
    workflow_id: UUID, user: SignedInUser, _: CheckedForm, delete: DeleteWorkflowUseCase
) -> Response:
    delete.execute(user, WorkflowId(workflow_id))
    return see("/ui/workflows")

"""The console's model pages: the registry, and a model's details, validate and deploy
buttons, and the tasks that worked on it. Each calls the use case the REST route calls."""

from __future__ import annotations

from uuid import UUID

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from domain.model import ModelId
from entrypoints.http.console.rendering import console_router, render, see
from entrypoints.http.console.session import CheckedForm, SignedInUser
from entrypoints.http.use_cases import (
    GetModelUseCase,
    ListModelsUseCase,
    ListTasksUseCase,
    RequestModelDeploymentUseCase,
    RequestModelValidationUseCase,
)
from entrypoints.logs import request_id_var

router = console_router()


@router.get("/models")
def model_list(
    request: Request, user: SignedInUser, list_models: ListModelsUseCase, cursor: str = ""
) -> HTMLResponse:
    """Newest first: the user's own (an admin's: everyone's)."""
    page = list_models.execute(user, cursor=cursor or None)
    return render(request, "models.html", {"models": page.items, "next_cursor": page.next_cursor})


@router.get("/models/{model_id}")
def model_page(
    request: Request,
    model_id: UUID,
    user: SignedInUser,
    get: GetModelUseCase,
    list_tasks: ListTasksUseCase,
) -> HTMLResponse:
    model = get.execute(user, ModelId(model_id))
    history = list_tasks.execute(user, model_id=model.id)
    return render(request, "model.html", {"model": model, "tasks": history.items})


@router.post("/models/{model_id}/validate")
def validate(
    model_id: UUID,
    user: SignedInUser,
    _: CheckedForm,
    request_validation: RequestModelValidationUseCase,
) -> Response:
    """A validation task is queued; its page follows."""
    _model, task = request_validation.execute(
        user, ModelId(model_id), request_id=request_id_var.get()
    )
    return see(f"/ui/tasks/{task.id}")


@router.post("/models/{model_id}/deploy")
def deploy(
    model_id: UUID,
    user: SignedInUser,
    _: CheckedForm,
    request_deployment: RequestModelDeploymentUseCase,
) -> Response:
    """A deployment task is queued; its page follows."""
    _model, task = request_deployment.execute(
        user, ModelId(model_id), request_id=request_id_var.get()
    )
    return see(f"/ui/tasks/{task.id}")

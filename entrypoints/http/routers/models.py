"""The ML model registry: register, read, list, change, delete, validate, deploy."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from domain.model import ModelId, ModelStatus
from entrypoints.http.dependencies import CurrentUser
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.models import (
    ModelPage,
    ModelResponse,
    ModelTaskResponse,
    RegisterModelRequest,
    UpdateModelRequest,
)
from entrypoints.http.schemas.tasks import TaskResponse
from entrypoints.http.use_cases import (
    DeleteModelUseCase,
    GetModelUseCase,
    ListModelsUseCase,
    RegisterModelUseCase,
    RequestModelDeploymentUseCase,
    RequestModelValidationUseCase,
    UpdateModelUseCase,
)
from entrypoints.logs import request_id_var

router = APIRouter(prefix="/models", tags=["models"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="register_model",
    responses=problem_responses(401, 409, 422),
)
def register_model(
    body: RegisterModelRequest,
    user: CurrentUser,
    register: RegisterModelUseCase,
) -> ModelResponse:
    model = register.execute(
        user,
        name=body.name,
        model_type=body.model_type,
        artifact_location=body.artifact_location,
        description=body.description,
    )
    return ModelResponse.of(model)


@router.get("", operation_id="list_models", responses=problem_responses(401, 422))
def list_models(
    user: CurrentUser,
    list_models: ListModelsUseCase,
    status: ModelStatus | None = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    cursor: str | None = None,
) -> ModelPage:
    page = list_models.execute(user, limit=limit, cursor=cursor, status=status)
    return ModelPage(items=[ModelResponse.of(m) for m in page.items], next_cursor=page.next_cursor)


@router.get("/{model_id}", operation_id="get_model", responses=problem_responses(401, 404, 422))
def get_model(model_id: UUID, user: CurrentUser, get: GetModelUseCase) -> ModelResponse:
    return ModelResponse.of(get.execute(user, ModelId(model_id)))


@router.patch(
    "/{model_id}", operation_id="update_model", responses=problem_responses(401, 404, 409, 422)
)
def update_model(
    model_id: UUID,
    body: UpdateModelRequest,
    user: CurrentUser,
    update: UpdateModelUseCase,
) -> ModelResponse:
    """A new `artifact_location` sends the model back to `registered` for re-validation."""
    model = update.execute(
        user,
        ModelId(model_id),
        name=body.name,
        description=body.description,
        artifact_location=body.artifact_location,
    )
    return ModelResponse.of(model)


@router.delete(
    "/{model_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_model",
    responses=problem_responses(401, 404, 409, 422),
)
def delete_model(model_id: UUID, user: CurrentUser, delete: DeleteModelUseCase) -> Response:
    delete.execute(user, ModelId(model_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{model_id}/validate",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="validate_model",
    responses=problem_responses(401, 404, 409, 422, 429),
)
def validate_model(
    model_id: UUID,
    user: CurrentUser,
    request: RequestModelValidationUseCase,
) -> ModelTaskResponse:
    model, task = request.execute(user, ModelId(model_id), request_id_var.get())
    return ModelTaskResponse(model=ModelResponse.of(model), task=TaskResponse.of(task))


@router.post(
    "/{model_id}/deploy",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="deploy_model",
    responses=problem_responses(401, 404, 409, 422, 429),
)
def deploy_model(
    model_id: UUID,
    user: CurrentUser,
    request: RequestModelDeploymentUseCase,
) -> ModelTaskResponse:
    model, task = request.execute(user, ModelId(model_id), request_id_var.get())
    return ModelTaskResponse(model=ModelResponse.of(model), task=TaskResponse.of(task))

"""ML model registry request and response bodies."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from domain.model import Model, ModelStatus, ModelType
from entrypoints.http.schemas.common import PlainText, ProseText, StrictRequest
from entrypoints.http.schemas.tasks import TaskResponse


class RegisterModelRequest(StrictRequest):
    name: PlainText = Field(min_length=1, max_length=200)
    model_type: ModelType
    artifact_location: PlainText = Field(
        min_length=1, max_length=1000, description="Path of the artifact, as the workers see it."
    )
    description: ProseText = Field("", max_length=2000)


class UpdateModelRequest(StrictRequest):
    name: PlainText | None = Field(None, min_length=1, max_length=200)
    description: ProseText | None = Field(None, max_length=2000)
    artifact_location: PlainText | None = Field(None, min_length=1, max_length=1000)


class ModelResponse(BaseModel):
    id: UUID
    name: str
    description: str
    model_type: ModelType
    status: ModelStatus
    status_reason: str | None = None
    artifact_location: str
    artifact_size: int | None = None
    artifact_sha256: str | None = None
    deployed_location: str | None = None
    user_id: UUID
    created_at: datetime
    updated_at: datetime | None = None

    @classmethod
    def of(cls, model: Model) -> ModelResponse:
        return cls(
            id=model.id,
            name=model.name,
            description=model.description,
            model_type=model.model_type,
            status=model.status,
            status_reason=model.status_reason,
            artifact_location=model.artifact_location,
            artifact_size=model.artifact_size,
            artifact_sha256=model.artifact_sha256,
            deployed_location=model.deployed_location,
            user_id=model.user_id,
            created_at=model.created_at,
            updated_at=model.updated_at,
        )


class ModelPage(BaseModel):
    items: list[ModelResponse]
    next_cursor: str | None = None


class ModelTaskResponse(BaseModel):
    """The model in its new status, and the task that will carry the request out."""

    model: ModelResponse
    task: TaskResponse

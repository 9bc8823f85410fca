"""Asking for a model to be validated: the model moves to validating and gets its task."""

from __future__ import annotations

from dataclasses import dataclass

from application.model_tasks import ModelTaskRequester
from domain.model import VALIDATE_MODEL_TASK, Model, ModelId
from domain.task import Task
from domain.user import User


@dataclass(frozen=True, slots=True)
class RequestModelValidation:
    """Rules: from registered, validated, invalid or a failed deployment; the
    `validate_model` task checks the artifact and settles the model. The task carries what it
    checks, so it needs no access to the registry's tables.

    Raises NotFoundError, InvalidTransitionError.
    """

    requester: ModelTaskRequester

    def execute(
        self, actor: User, model_id: ModelId, request_id: str | None = None
    ) -> tuple[Model, Task]:
        return self.requester.request(
            actor,
            model_id,
            request_id=request_id,
            task_type=VALIDATE_MODEL_TASK,
            move=lambda model, at: model.start_validation(at=at),
            arguments=lambda model: {
                "model_id": str(model.id),
                "artifact_location": model.artifact_location,
                "model_type": model.model_type.value,
            },
        )

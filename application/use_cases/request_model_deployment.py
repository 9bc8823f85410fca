"""Asking for a validated model to be deployed, at high priority."""

from __future__ import annotations

from dataclasses import dataclass

from application.model_tasks import ModelTaskRequester
from domain.model import DEPLOY_MODEL_TASK, Model, ModelId
from domain.task import Priority, Task
from domain.user import User


@dataclass(frozen=True, slots=True)
class RequestModelDeployment:
    """Rules: only a validated model (or a deployed one, to redeploy, or one whose deployment
    failed); deployments jump the queue.

    Raises NotFoundError, InvalidTransitionError.
    """

    requester: ModelTaskRequester
    deployment_dir: str

    def execute(
        self, actor: User, model_id: ModelId, request_id: str | None = None
    ) -> tuple[Model, Task]:
        return self.requester.request(
            actor,
            model_id,
            request_id=request_id,
            task_type=DEPLOY_MODEL_TASK,
            move=lambda model, at: model.start_deployment(at=at),
            arguments=lambda model: {
                "model_id": str(model.id),
                "artifact_location": model.artifact_location,
                "artifact_sha256": model.artifact_sha256,
                "deployment_dir": self.deployment_dir,
            },
            priority=Priority.HIGH,
        )

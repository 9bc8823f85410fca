"""Asking for a model to be validated: the model moves to validating and gets its task."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.ports import Clock, TaskTypeCatalog, UnitOfWork
from application.use_cases.access import load_model
from application.use_cases.dispatch import TaskPublisher
from application.use_cases.quota import ensure_within_active_task_quota
from domain.model import VALIDATE_MODEL_TASK, Model, ModelId
from domain.policy import Action
from domain.task import MAX_NAME_LENGTH, Priority, Task
from domain.user import User


@dataclass(frozen=True, slots=True)
class ModelTaskRequester:
    """Commits a model's move and the task that carries it out together, then publishes.
    The task counts against the model owner's quota of unfinished tasks."""

    uow: UnitOfWork
    catalog: TaskTypeCatalog
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int

    def request(
        self,
        actor: User,
        model_id: ModelId,
        *,
        task_type: str,
        move: Callable[[Model, datetime], None],
        arguments: Callable[[Model], dict[str, Any]],
        priority: Priority | None = None,
        request_id: str | None = None,
    ) -> tuple[Model, Task]:
        spec = self.catalog.get(task_type)
        now = self.clock.now()
        with self.uow:
            model = load_model(self.uow, actor, model_id, Action.CHANGE)
            ensure_within_active_task_quota(self.uow, model.user_id, self.max_active_tasks)
            move(model, now)
            task = Task.submit(
                name=f"{task_type} {model.name}"[:MAX_NAME_LENGTH],
                task_type=task_type,
                user_id=model.user_id,
                at=now,
                priority=priority or spec.default_priority,
                kwargs=arguments(model),
                model_id=model.id,
                max_attempts=spec.max_attempts,
                request_id=request_id,
            )
            self.uow.models.update(model)
            self.uow.tasks.add(task)
            self.uow.commit()
        self.publisher.publish([task])
        return model, task


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

"""Submitting a task: validate it, store it, then hand it to the broker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.ports import Clock, TaskTypeCatalog, UnitOfWork
from application.use_cases.access import load_model
from application.use_cases.dispatch import TaskPublisher
from application.use_cases.quota import ensure_within_active_task_quota
from domain.errors import ValidationError
from domain.model import ModelId
from domain.policy import Action, ensure_active
from domain.task import Priority, Task
from domain.user import User


@dataclass(frozen=True, slots=True)
class SubmitTask:
    """Rules: the task type must exist and be one clients may submit (not an internal model
    task), and its arguments validate; a referenced model must be one the actor may read;
    an owner has at most `max_active_tasks` pending or running tasks. The row is committed
    before publishing; if the broker is down the task stays undispatched for the relay and
    the submission still succeeds.

    Raises ValidationError, NotFoundError (model), QuotaExceededError, PermissionDeniedError.
    """

    uow: UnitOfWork
    catalog: TaskTypeCatalog
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int

    def execute(
        self,
        actor: User,
        *,
        name: str,
        task_type: str,
        priority: Priority | None = None,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        model_id: ModelId | None = None,
        request_id: str | None = None,
    ) -> Task:
        ensure_active(actor)
        spec = self.catalog.get(task_type)
        if spec.internal:
            raise ValidationError(
                f"{task_type} tasks are created by taskhub itself and cannot be submitted",
                field="task_type",
            )
        args, kwargs = self.catalog.validate_arguments(task_type, args or [], kwargs or {})
        with self.uow:
            if model_id is not None:
                load_model(self.uow, actor, model_id, Action.READ)
            ensure_within_active_task_quota(self.uow, actor.id, self.max_active_tasks)
            task = Task.submit(
                name=name,
                task_type=task_type,
                user_id=actor.id,
                at=self.clock.now(),
                priority=priority or spec.default_priority,
                args=args,
                kwargs=kwargs,
                model_id=model_id,
                max_attempts=spec.max_attempts,
                request_id=request_id,
            )
            self.uow.tasks.add(task)
            self.uow.commit()
        self.publisher.publish([task])
        return task

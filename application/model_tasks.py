"""Moving a model and creating the task that carries the move out, in one transaction: what
a request for validation or deployment shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from application.access import load_model
from application.flow_control import admit
from application.ports import Clock, TaskTypeCatalog, UnitOfWork
from application.publishing import TaskPublisher
from application.quota import ensure_within_active_task_quota
from application.task_events import record_status_events
from domain.model import Model, ModelId
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
            task_kwargs = arguments(model)
            task = Task.submit(
                name=f"{task_type} {model.name}"[:MAX_NAME_LENGTH],
                task_type=task_type,
                user_id=model.user_id,
                at=now,
                priority=priority or spec.default_priority,
                kwargs=task_kwargs,
                model_id=model.id,
                max_attempts=spec.max_attempts,
                request_id=request_id,
                concurrency=spec.concurrency.concurrency(task_kwargs, None)
                if spec.concurrency
                else None,
            )
            self.uow.models.update(model)
            admit(self.uow, [task])
            self.uow.tasks.add(task)
            record_status_events(self.uow, [task], at=now)
            self.uow.commit()
        self.publisher.publish([task])
        return model, task

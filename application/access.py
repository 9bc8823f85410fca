"""Loading what a user owns (a task, a model, a webhook endpoint; schedules and workflows
through `load_owned` too) on their behalf, with the domain policy applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from application.ports import UnitOfWork
from domain.errors import NotFoundError
from domain.model import Model, ModelId
from domain.policy import Action, ensure_may_act_on
from domain.task import Task, TaskId
from domain.user import User, UserId
from domain.webhook import WebhookEndpoint, WebhookEndpointId


class Owned(Protocol):
    @property
    def user_id(self) -> UserId: ...


E = TypeVar("E", bound=Owned)


def load_owned(
    actor: User, action: Action, resource: str, resource_id: object, read: Callable[[], E]
) -> E:
    """What `read` returns, if `actor` may perform `action` on it; NotFoundError otherwise,
    the same for a missing one and another user's (which must not be told apart)."""
    try:
        found = read()
    except NotFoundError:
        raise NotFoundError(
            f"{resource} {resource_id} not found", **{f"{resource}_id": str(resource_id)}
        ) from None
    ensure_may_act_on(
        actor, action, owner_id=found.user_id, resource=resource, resource_id=resource_id
    )
    return found


def load_task(uow: UnitOfWork, actor: User, task_id: TaskId, action: Action) -> Task:
    """The task, if `actor` may perform `action` on it; NotFoundError otherwise."""
    return load_owned(actor, action, "task", task_id, lambda: uow.tasks.get(task_id))


def load_model(uow: UnitOfWork, actor: User, model_id: ModelId, action: Action) -> Model:
    """The model, if `actor` may perform `action` on it; NotFoundError otherwise."""
    return load_owned(actor, action, "model", model_id, lambda: uow.models.get(model_id))


def load_webhook_endpoint(
    uow: UnitOfWork, actor: User, endpoint_id: WebhookEndpointId, action: Action
) -> WebhookEndpoint:
    """The endpoint, if `actor` may perform `action` on it; NotFoundError otherwise."""
    return load_owned(
        actor, action, "webhook", endpoint_id, lambda: uow.webhooks.get_endpoint(endpoint_id)
    )

"""Loading a task or model on behalf of a user, with the domain policy applied."""

from __future__ import annotations

from application.ports import UnitOfWork
from domain.errors import NotFoundError
from domain.model import Model, ModelId
from domain.policy import Action, ensure_may_act_on
from domain.task import Task, TaskId
from domain.user import User
from domain.webhook import WebhookEndpoint, WebhookEndpointId


def load_task(uow: UnitOfWork, actor: User, task_id: TaskId, action: Action) -> Task:
    """The task, if `actor` may perform `action` on it; NotFoundError otherwise."""
    try:
        task = uow.tasks.get(task_id)
    except NotFoundError:
        raise NotFoundError(f"task {task_id} not found", task_id=str(task_id)) from None
    ensure_may_act_on(actor, action, owner_id=task.user_id, resource="task", resource_id=task_id)
    return task


def load_model(uow: UnitOfWork, actor: User, model_id: ModelId, action: Action) -> Model:
    """The model, if `actor` may perform `action` on it; NotFoundError otherwise."""
    try:
        model = uow.models.get(model_id)
    except NotFoundError:
        raise NotFoundError(f"model {model_id} not found", model_id=str(model_id)) from None
    ensure_may_act_on(actor, action, owner_id=model.user_id, resource="model", resource_id=model_id)
    return model


def load_webhook_endpoint(
    uow: UnitOfWork, actor: User, endpoint_id: WebhookEndpointId, action: Action
) -> WebhookEndpoint:
    """The endpoint, if `actor` may perform `action` on it; NotFoundError otherwise."""
    try:
        endpoint = uow.webhooks.get_endpoint(endpoint_id)
    except NotFoundError:
        raise NotFoundError(
            f"webhook {endpoint_id} not found", webhook_id=str(endpoint_id)
        ) from None
    ensure_may_act_on(
        actor, action, owner_id=endpoint.user_id, resource="webhook", resource_id=endpoint_id
    )
    return endpoint

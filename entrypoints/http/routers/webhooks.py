"""Webhooks: endpoints a user registers for task events, their secrets and delivery logs."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from domain.webhook import WebhookDeliveryId, WebhookEndpointId
from entrypoints.http.dependencies import CurrentUser
from entrypoints.http.schemas.common import problem_responses
from entrypoints.http.schemas.webhooks import (
    CallbackSecretResponse,
    CreateWebhookRequest,
    DeliveryList,
    DeliveryResponse,
    WebhookList,
    WebhookResponse,
    WebhookWithSecretResponse,
)
from entrypoints.http.use_cases import (
    DeleteWebhookEndpointUseCase,
    IssueCallbackSecretUseCase,
    ListWebhookDeliveriesUseCase,
    ListWebhookEndpointsUseCase,
    RedeliverWebhookUseCase,
    RegisterWebhookEndpointUseCase,
    RotateWebhookSecretUseCase,
)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_webhook",
    responses=problem_responses(401, 403, 422, 429),
)
def create_webhook(
    body: CreateWebhookRequest, user: CurrentUser, register: RegisterWebhookEndpointUseCase
) -> WebhookWithSecretResponse:
    """A webhook endpoint for the event types named. The answer holds its signing secret,
    shown this once. Each delivery is a POST with the Standard Webhooks headers
    `webhook-id` (the event's id, as in the event stream), `webhook-timestamp` and
    `webhook-signature`."""
    endpoint = register.execute(user, url=body.url, events=body.events)
    return WebhookWithSecretResponse.with_secret(endpoint)


@router.get("", operation_id="list_webhooks", responses=problem_responses(401, 403))
def list_webhooks(user: CurrentUser, list_endpoints: ListWebhookEndpointsUseCase) -> WebhookList:
    """Your webhook endpoints, oldest first; a disabled one says why."""
    return WebhookList(items=[WebhookResponse.of(e) for e in list_endpoints.execute(user)])


@router.post(
    "/callback-secret",
    status_code=status.HTTP_201_CREATED,
    operation_id="issue_callback_secret",
    responses=problem_responses(401, 403),
)
def issue_callback_secret(
    user: CurrentUser, issue: IssueCallbackSecretUseCase
) -> CallbackSecretResponse:
    """A new secret for the deliveries to your submissions' `callback_url`s (replacing the
    earlier one), shown this once. A submission with a `callback_url` needs one."""
    return CallbackSecretResponse(secret=issue.execute(user))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="delete_webhook",
    responses=problem_responses(401, 403, 404),
)
def delete_webhook(
    webhook_id: UUID, user: CurrentUser, delete: DeleteWebhookEndpointUseCase
) -> Response:
    """Deletes the endpoint and its delivery log."""
    delete.execute(user, WebhookEndpointId(webhook_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    operation_id="rotate_webhook_secret",
    responses=problem_responses(401, 403, 404),
)
def rotate_webhook_secret(
    webhook_id: UUID, user: CurrentUser, rotate: RotateWebhookSecretUseCase
) -> WebhookWithSecretResponse:
    """A new signing secret, shown this once; every attempt from now on is signed with it."""
    return WebhookWithSecretResponse.with_secret(
        rotate.execute(user, WebhookEndpointId(webhook_id))
    )


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="list_webhook_deliveries",
    responses=problem_responses(401, 403, 404, 422),
)
def list_webhook_deliveries(
    webhook_id: UUID,
    user: CurrentUser,
    list_deliveries: ListWebhookDeliveriesUseCase,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryList:
    """The endpoint's deliveries, newest event first: each attempt with its status code and
    the first KB of the answer, and when the next retry is due."""
    deliveries = list_deliveries.execute(user, WebhookEndpointId(webhook_id), limit=limit)
    return DeliveryList(items=[DeliveryResponse.of(d) for d in deliveries])


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=status.HTTP_202_ACCEPTED,
    operation_id="redeliver_webhook",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def redeliver_webhook(
    webhook_id: UUID, delivery_id: UUID, user: CurrentUser, redeliver: RedeliverWebhookUseCase
) -> DeliveryResponse:
    """Sends the delivery again, at once, with a new round of retries (409 while an attempt
    of it is in flight; 422 when the endpoint is disabled)."""
    delivery = redeliver.execute(
        user, WebhookEndpointId(webhook_id), WebhookDeliveryId(delivery_id)
    )
    return DeliveryResponse.of(delivery)

"""Webhooks over the in-memory unit of work: deliveries written with their events, the sweep
that claims and queues them, the sender's attempts and retries, and their owner's controls."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.in_memory.webhooks import RecordingWebhookQueue, ScriptedWebhookSender
from application.ports import WebhookResponse
from application.publishing import TaskPublisher
from application.running.outcomes import Completed
from application.running.record_outcome import RecordOutcome
from application.running.start_task import StartTask
from application.submission import TaskSubmission
from application.use_cases.delete_webhook_endpoint import DeleteWebhookEndpoint
from application.use_cases.deliver_webhook import DeliverWebhook
from application.use_cases.dispatch_due_webhooks import DispatchDueWebhooks
from application.use_cases.issue_callback_secret import IssueCallbackSecret
from application.use_cases.list_webhook_deliveries import ListWebhookDeliveries
from application.use_cases.purge_expired_events import PurgeExpiredEvents
from application.use_cases.redeliver_webhook import RedeliverWebhook
from application.use_cases.register_webhook_endpoint import RegisterWebhookEndpoint
from application.use_cases.rotate_webhook_secret import RotateWebhookSecret
from application.use_cases.submit_task import SubmitTask
from application.use_cases.submit_task_batch import SubmitTaskBatch
from domain.errors import ConflictError, NotFoundError, ValidationError
from domain.task import Task
from domain.user import User
from domain.webhook import DeliveryStatus, WebhookDelivery, WebhookEndpoint

SCHEDULE = (0.0, 5.0, 300.0)


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
) -> SubmitTask:
    return SubmitTask(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )


@pytest.fixture
def queue() -> RecordingWebhookQueue:
    return RecordingWebhookQueue()


@pytest.fixture
def sweep(
    uow: InMemoryUnitOfWork, clock: FixedClock, queue: RecordingWebhookQueue
) -> DispatchDueWebhooks:
    return DispatchDueWebhooks(uow=uow, clock=clock, queue=queue, hold=timedelta(seconds=60))


@pytest.fixture
def sender() -> ScriptedWebhookSender:
    return ScriptedWebhookSender()


@pytest.fixture
def deliver(
    uow: InMemoryUnitOfWork, clock: FixedClock, sender: ScriptedWebhookSender
) -> DeliverWebhook:
    return DeliverWebhook(
        uow=uow,
        clock=clock,
        sender=sender,
        retry_schedule=SCHEDULE,
        disable_after=timedelta(days=5),
    )


def register(
    uow: InMemoryUnitOfWork, clock: FixedClock, user: User, events: list[str]
) -> WebhookEndpoint:
    return RegisterWebhookEndpoint(uow=uow, clock=clock).execute(
        user, url="https://hooks.example.com/in", events=events
    )


def complete(
    uow: InMemoryUnitOfWork, clock: FixedClock, publisher: TaskPublisher, task: Task
) -> None:
    run = StartTask(uow=uow, clock=clock).execute(task.id)
    RecordOutcome(uow=uow, publisher=publisher, clock=clock).execute(run, Completed(result=42))


def deliveries(uow: InMemoryUnitOfWork) -> list[WebhookDelivery]:
    return sorted(uow.store.webhooks.deliveries.values(), key=lambda d: d.sequence)


def test_each_event_of_a_subscribed_type_becomes_a_delivery_numbered_as_the_event(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    publisher: TaskPublisher,
    alice: User,
    bob: User,
) -> None:
    endpoint = register(uow, clock, alice, ["task.completed"])
    register(uow, clock, bob, ["task.completed"])
    task = submit.execute(alice, name="a", task_type="bulk")
    complete(uow, clock, publisher, task)

    [delivery] = deliveries(uow)
    [completed_event] = [e for e in uow.store.events.events if e.type == "task.completed"]
    assert delivery.endpoint_id == endpoint.id
    assert delivery.sequence == completed_event.sequence
    assert delivery.payload["result"] == 42
    assert delivery.status is DeliveryStatus.PENDING


def test_the_sweep_claims_due_deliveries_and_queues_each_once(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    queue: RecordingWebhookQueue,
    alice: User,
) -> None:
    register(uow, clock, alice, ["task.pending"])
    submit.execute(alice, name="a", task_type="bulk")

    first = sweep.execute()
    again = sweep.execute()
    clock.advance(seconds=61)  # the claim lapsed: its sender is gone
    after_lapse = sweep.execute()

    assert len(first) == 1
    assert again == []
    assert after_lapse == first
    assert queue.queued == first + first


def test_a_delivery_is_signed_with_the_endpoint_secret_and_its_id_is_the_event_number(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    deliver: DeliverWebhook,
    sender: ScriptedWebhookSender,
    alice: User,
) -> None:
    endpoint = register(uow, clock, alice, ["task.pending"])
    submit.execute(alice, name="a", task_type="bulk")
    [delivery_id] = sweep.execute()

    recorded = deliver.execute(delivery_id)

    [(url, headers, body)] = sender.sent
    key = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert url == endpoint.url
    assert headers["webhook-signature"] == f"v1,{expected}"
    assert headers["webhook-id"] == str(uow.store.events.events[0].sequence)
    assert json.loads(body)["type"] == "task.pending"
    assert recorded is not None
    assert recorded.status is DeliveryStatus.SUCCEEDED


def test_a_failed_attempt_is_logged_and_retried_on_the_schedule(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    deliver: DeliverWebhook,
    sender: ScriptedWebhookSender,
    alice: User,
) -> None:
    endpoint = register(uow, clock, alice, ["task.pending"])
    submit.execute(alice, name="a", task_type="bulk")
    sender.answers = [
        WebhookResponse(status_code=500, body=b"x" * 5000),
        WebhookResponse(status_code=None, error="ConnectError: refused"),
        WebhookResponse(status_code=200),
    ]

    [delivery_id] = sweep.execute()
    deliver.execute(delivery_id)
    clock.advance(seconds=4)
    not_yet = sweep.execute()
    clock.advance(seconds=1)
    deliver.execute(*sweep.execute())
    clock.advance(seconds=300)
    deliver.execute(*sweep.execute())

    [logged] = ListWebhookDeliveries(uow=uow).execute(alice, endpoint.id)
    assert not_yet == []
    assert [(a.status_code, a.error) for a in logged.attempts] == [
        (500, None),
        (None, "ConnectError: refused"),
        (200, None),
    ]
    assert logged.attempts[0].response == "x" * 1024
    assert logged.status is DeliveryStatus.SUCCEEDED
    assert uow.store.webhooks.endpoints[endpoint.id].failing_since is None


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_deliveries_given_up(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    deliver: DeliverWebhook,
    sender: ScriptedWebhookSender,
    alice: User,
) -> None:
    endpoint = register(uow, clock, alice, ["task.pending"])
    sender.answers = [WebhookResponse(status_code=410)]
    submit.execute(alice, name="a", task_type="bulk")
    deliver.execute(*sweep.execute())
    clock.advance(days=5)
    submit.execute(alice, name="b", task_type="bulk")
    retry_of_a, to_b = sweep.execute()
    deliver.execute(retry_of_a)  # fails five days after the first failure
    given_up = deliver.execute(to_b)

    disabled = uow.store.webhooks.endpoints[endpoint.id]
    assert not disabled.enabled
    assert disabled.disabled_reason is not None
    assert "HTTP 410" in disabled.disabled_reason
    assert len(sender.sent) == 2  # nothing was sent to b once the endpoint was disabled
    assert given_up is not None
    assert given_up.status is DeliveryStatus.FAILED
    with pytest.raises(ValidationError):
        RedeliverWebhook(uow=uow, clock=clock).execute(alice, endpoint.id, to_b)


def test_a_redelivery_makes_a_finished_delivery_due_at_once_but_not_while_in_flight(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    deliver: DeliverWebhook,
    alice: User,
    bob: User,
) -> None:
    endpoint = register(uow, clock, alice, ["task.pending"])
    submit.execute(alice, name="a", task_type="bulk")
    [delivery_id] = sweep.execute()
    redeliver = RedeliverWebhook(uow=uow, clock=clock)

    with pytest.raises(ConflictError):
        redeliver.execute(alice, endpoint.id, delivery_id)
    deliver.execute(delivery_id)
    again = redeliver.execute(alice, endpoint.id, delivery_id)
    with pytest.raises(NotFoundError):
        redeliver.execute(bob, endpoint.id, delivery_id)

    assert again.status is DeliveryStatus.PENDING
    assert sweep.execute() == [delivery_id]


def test_a_rotated_secret_signs_the_next_attempt(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    deliver: DeliverWebhook,
    sender: ScriptedWebhookSender,
    alice: User,
) -> None:
    endpoint = register(uow, clock, alice, ["task.pending"])
    submit.execute(alice, name="a", task_type="bulk")
    rotated = RotateWebhookSecret(uow=uow).execute(alice, endpoint.id)
    deliver.execute(*sweep.execute())

    [(_, headers, body)] = sender.sent
    key = base64.b64decode(rotated.secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert rotated.secret != endpoint.secret
    assert headers["webhook-signature"] == f"v1,{expected}"


def test_a_deleted_endpoint_gets_nothing_more(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    alice: User,
) -> None:
    endpoint = register(uow, clock, alice, ["task.pending"])
    submit.execute(alice, name="a", task_type="bulk")
    DeleteWebhookEndpoint(uow=uow).execute(alice, endpoint.id)
    submit.execute(alice, name="b", task_type="bulk")

    assert sweep.execute() == []
    assert uow.store.webhooks.deliveries == {}


def test_a_callback_url_hears_of_its_task_end_only_signed_with_the_callback_secret(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    publisher: TaskPublisher,
    sweep: DispatchDueWebhooks,
    deliver: DeliverWebhook,
    sender: ScriptedWebhookSender,
    alice: User,
) -> None:
    secret = IssueCallbackSecret(uow=uow).execute(alice)
    task = submit.execute(
        alice, name="a", task_type="bulk", callback_url="https://app.example.com/done"
    )
    complete(uow, clock, publisher, task)
    deliver.execute(*sweep.execute())

    [(url, headers, body)] = sender.sent
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert url == "https://app.example.com/done"
    assert json.loads(body)["type"] == "task.completed"
    assert headers["webhook-signature"] == f"v1,{expected}"


def test_a_callback_url_without_a_callback_secret_is_refused_naming_the_field(
    submit: SubmitTask, uow: InMemoryUnitOfWork, alice: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        submit.execute(alice, name="a", task_type="bulk", callback_url="https://a.example/x")

    assert refused.value.field == "callback_url"
    assert uow.store.tasks == {}


def test_a_batch_item_callback_url_is_checked_by_its_position(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
    alice: User,
) -> None:
    batch = SubmitTaskBatch(
        uow=uow, catalog=catalog, publisher=publisher, clock=clock, max_active_tasks=10
    )
    IssueCallbackSecret(uow=uow).execute(alice)

    with pytest.raises(ValidationError) as refused:
        batch.execute(
            alice,
            [
                TaskSubmission("a", "bulk"),
                TaskSubmission("b", "bulk", callback_url="gopher://x"),
            ],
        )
    tasks = batch.execute(
        alice,
        [TaskSubmission("a", "bulk"), TaskSubmission("b", "bulk", callback_url="https://b.x/y")],
    )

    assert refused.value.field_errors[0][0] == "tasks[1].callback_url"
    assert uow.store.webhooks.callbacks == {tasks[1].id: "https://b.x/y"}


def test_the_maintenance_purge_forgets_done_deliveries_with_their_events_not_pending_ones(
    uow: InMemoryUnitOfWork,
    clock: FixedClock,
    submit: SubmitTask,
    sweep: DispatchDueWebhooks,
    deliver: DeliverWebhook,
    alice: User,
) -> None:
    register(uow, clock, alice, ["task.pending"])
    submit.execute(alice, name="done", task_type="bulk")
    deliver.execute(*sweep.execute())
    submit.execute(alice, name="waiting", task_type="bulk")
    clock.advance(hours=73)

    PurgeExpiredEvents(
        uow=uow,
        clock=clock,
        event_retention=timedelta(hours=72),
        key_retention=timedelta(hours=24),
        batch_size=100,
    ).execute()

    assert [d.status for d in deliveries(uow)] == [DeliveryStatus.PENDING]

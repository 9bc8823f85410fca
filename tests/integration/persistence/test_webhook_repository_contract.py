"""Webhook endpoints, callbacks and deliveries behave alike in memory and on each database:
stored and read back whole, due deliveries listed in order and not while claimed, an
endpoint's deliveries gone with it; and a task event's deliveries committed with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.task_events import record_task_event
from domain.event import EventKind
from domain.user import User
from domain.webhook import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    new_secret,
)
from tests.factories import make_task
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def registered(new_uow: NewUnitOfWork, owner: User, events: list[str]) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.register(owner.id, "https://hooks.example.com/in", events, at=T0)
    with new_uow() as uow:
        uow.webhooks.add_endpoint(endpoint)
        uow.commit()
    return endpoint


def test_an_endpoint_and_its_changes_read_back_whole(new_uow: NewUnitOfWork, owner: User) -> None:
    endpoint = registered(new_uow, owner, ["task.completed", "task.failed"])
    disabled = endpoint.failed(at=T0, disable_after=timedelta(0), why="HTTP 500")
    with new_uow() as uow:
        uow.webhooks.update_endpoint(disabled)
        uow.commit()

    with new_uow() as uow:
        assert uow.webhooks.get_endpoint(endpoint.id) == disabled
        assert uow.webhooks.endpoints_of(owner.id) == [disabled]


def test_a_task_event_stages_its_deliveries_in_its_own_transaction(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    endpoint = registered(new_uow, owner, ["task.pending"])
    task = save(new_uow, make_task(user=owner))
    with new_uow() as uow:
        record_task_event(uow, task, EventKind.STATUS, at=T0)
        # not committed: rolled back with the event

    with new_uow() as uow:
        assert uow.webhooks.list_due_deliveries(now=T0, limit=10) == []
        uow.webhooks.set_callback_secret(owner.id, new_secret())
        uow.webhooks.set_callback(task.id, "https://app.example.com/done")
        event = record_task_event(uow, task, EventKind.STATUS, at=T0)
        uow.commit()

    with new_uow() as uow:
        [delivery] = uow.webhooks.list_due_deliveries(now=T0, limit=10)
        assert uow.webhooks.callback_of(task.id) == "https://app.example.com/done"
    assert (delivery.endpoint_id, delivery.sequence) == (endpoint.id, event.sequence)
    assert delivery.payload == event.data


def test_due_deliveries_are_listed_oldest_first_and_not_while_claimed(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    endpoint = registered(new_uow, owner, ["task.completed"])
    task = save(new_uow, make_task(user=owner))

    def delivery(sequence: int, at: datetime) -> WebhookDelivery:
        return WebhookDelivery.of_event(
            user_id=owner.id,
            sequence=sequence,
            event_type="task.completed",
            task_id=task.id,
            payload={"n": sequence},
            url=endpoint.url,
            endpoint_id=endpoint.id,
            at=at,
        )

    later, earlier, future = (
        delivery(1, T0 + timedelta(seconds=2)),
        delivery(2, T0 + timedelta(seconds=1)),
        delivery(3, T0 + timedelta(hours=1)),
    )
    with new_uow() as uow:
        for d in (later, earlier, future):
            uow.webhooks.add_delivery(d)
        uow.commit()
    now = T0 + timedelta(minutes=1)
    with new_uow() as uow:
        assert [d.id for d in uow.webhooks.list_due_deliveries(now=now, limit=10)] == [
            earlier.id,
            later.id,
        ]
        uow.webhooks.update_delivery(earlier.claim(at=now, hold=timedelta(seconds=30)))
        attempt = DeliveryAttempt(at=now, status_code=500, response="no", error=None)
        uow.webhooks.update_delivery(later.attempted(attempt, schedule=(0, 5)))
        uow.commit()

    with new_uow() as uow:
        assert uow.webhooks.list_due_deliveries(now=now, limit=10) == []
        logged = uow.webhooks.deliveries_of(endpoint.id, limit=10)
    assert [d.sequence for d in logged] == [3, 2, 1]
    assert logged[2].attempts == (attempt,)
    assert logged[2].status is DeliveryStatus.PENDING
    assert logged[2].next_attempt_at == now + timedelta(seconds=5)


def test_deleting_an_endpoint_deletes_its_deliveries(new_uow: NewUnitOfWork, owner: User) -> None:
    endpoint = registered(new_uow, owner, ["task.pending"])
    task = save(new_uow, make_task(user=owner))
    with new_uow() as uow:
        record_task_event(uow, task, EventKind.STATUS, at=T0)
        uow.commit()
    with new_uow() as uow:
        uow.webhooks.delete_endpoint(uow.webhooks.get_endpoint(endpoint.id))
        uow.commit()

    with new_uow() as uow:
        assert uow.webhooks.endpoints_of(owner.id) == []
        assert uow.webhooks.list_due_deliveries(now=T0, limit=10) == []


def test_finished_deliveries_older_than_the_cutoff_are_purged_pending_ones_stay(
    new_uow: NewUnitOfWork, owner: User
) -> None:
    endpoint = registered(new_uow, owner, ["task.completed"])
    task = save(new_uow, make_task(user=owner))

    def delivery(sequence: int) -> WebhookDelivery:
        return WebhookDelivery.of_event(
            user_id=owner.id,
            sequence=sequence,
            event_type="task.completed",
            task_id=task.id,
            payload={},
            url=endpoint.url,
            endpoint_id=endpoint.id,
            at=T0,
        )

    done = delivery(1).attempted(DeliveryAttempt(at=T0, status_code=200), schedule=(0,))
    given_up = delivery(2).given_up()
    pending = delivery(3)
    with new_uow() as uow:
        for d in (done, given_up, pending):
            uow.webhooks.add_delivery(d)
        uow.commit()

    with new_uow() as uow:
        purged = uow.webhooks.delete_finished_deliveries_before(T0 + timedelta(hours=1), limit=10)
        uow.commit()

    with new_uow() as uow:
        left = uow.webhooks.deliveries_of(endpoint.id, limit=10)
    assert purged == 2
    assert [d.sequence for d in left] == [3]

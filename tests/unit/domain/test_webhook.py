"""Webhook signing (Standard Webhooks), delivery retries and endpoint disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import ConflictError, ValidationError
from domain.task import TaskId
from domain.user import UserId
from domain.webhook import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    signature,
    webhook_url,
)

AT = datetime(2026, 1, 1, 12, tzinfo=UTC)
SCHEDULE = (0.0, 5.0, 300.0)


def test_the_signature_matches_the_standard_webhooks_reference_example() -> None:
    # The example of the Standard Webhooks specification (and of its reference libraries).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'

    assert (
        signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def delivery() -> WebhookDelivery:
    return WebhookDelivery.of_event(
        user_id=UserId(uuid4()),
        sequence=7,
        event_type="task.completed",
        task_id=TaskId(uuid4()),
        payload={"status": "completed"},
        url="https://hooks.example.com/in",
        endpoint_id=None,
        at=AT,
    )


def failure(at: datetime) -> DeliveryAttempt:
    return DeliveryAttempt(at=at, status_code=503)


def test_a_failed_attempt_is_retried_after_the_next_delay_of_the_schedule_until_it_runs_out() -> (
    None
):
    first = delivery().attempted(failure(AT), schedule=SCHEDULE)
    second = first.attempted(failure(AT + timedelta(seconds=5)), schedule=SCHEDULE)
    third = second.attempted(failure(AT + timedelta(seconds=305)), schedule=SCHEDULE)

    assert first.next_attempt_at == AT + timedelta(seconds=5)
    assert second.next_attempt_at == AT + timedelta(seconds=305)
    assert (third.status, third.next_attempt_at) == (DeliveryStatus.FAILED, None)
    assert [a.status_code for a in third.attempts] == [503, 503, 503]


def test_a_2xx_answer_ends_the_delivery() -> None:
    done = delivery().attempted(DeliveryAttempt(at=AT, status_code=204), schedule=SCHEDULE)

    assert (done.status, done.next_attempt_at) == (DeliveryStatus.SUCCEEDED, None)


def test_a_claimed_delivery_cannot_be_claimed_or_redelivered_until_its_claim_lapses() -> None:
    claimed = delivery().claim(at=AT, hold=timedelta(seconds=60))

    with pytest.raises(ConflictError):
        claimed.claim(at=AT + timedelta(seconds=59), hold=timedelta(seconds=60))
    with pytest.raises(ConflictError):
        claimed.redelivered(at=AT + timedelta(seconds=1))
    assert claimed.due(AT + timedelta(seconds=60))


def test_a_redelivery_starts_a_new_round_of_the_schedule() -> None:
    given_up = delivery()
    for n in range(3):
        given_up = given_up.attempted(failure(AT + timedelta(minutes=n)), schedule=SCHEDULE)
    again = given_up.redelivered(at=AT + timedelta(hours=1))
    retried = again.attempted(failure(AT + timedelta(hours=1)), schedule=SCHEDULE)

    assert again.due(AT + timedelta(hours=1))
    assert retried.status is DeliveryStatus.PENDING
    assert retried.next_attempt_at == AT + timedelta(hours=1, seconds=5)


def test_an_endpoint_failing_for_the_whole_period_is_disabled_with_the_reason() -> None:
    endpoint = WebhookEndpoint.register(
        UserId(uuid4()), "https://hooks.example.com", ["task.completed"], at=AT
    )
    five_days = timedelta(days=5)

    failing = endpoint.failed(at=AT, disable_after=five_days, why="HTTP 500")
    still = failing.failed(at=AT + timedelta(days=4), disable_after=five_days, why="HTTP 500")
    healed = still.delivered().failed(
        at=AT + timedelta(days=6), disable_after=five_days, why="HTTP 500"
    )
    disabled = still.failed(at=AT + five_days, disable_after=five_days, why="HTTP 502")

    assert still.enabled
    assert still.failing_since == AT
    assert healed.enabled
    assert healed.failing_since == AT + timedelta(days=6)
    assert not disabled.enabled
    assert disabled.disabled_reason is not None
    assert "HTTP 502" in disabled.disabled_reason
    assert not disabled.subscribes_to("task.completed")


def test_a_new_endpoint_has_a_standard_webhooks_secret_and_known_event_types_only() -> None:
    endpoint = WebhookEndpoint.register(
        UserId(uuid4()), "https://hooks.example.com", ["task.failed"], at=AT
    )

    assert endpoint.secret.startswith("whsec_")
    with pytest.raises(ValidationError) as refused:
        WebhookEndpoint.register(UserId(uuid4()), "https://x.example", ["task.exploded"], at=AT)
    assert refused.value.field == "events"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "https://user:pw@example.com/", "/relative", "https://"]
)
def test_a_webhook_url_is_an_absolute_http_url_without_credentials(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        webhook_url(url, field="callback_url")
    assert refused.value.field == "callback_url"

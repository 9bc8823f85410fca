"""CeleryTaskDispatcher and CeleryBrokerProbe against a live Redis."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from celery import Celery

from adapters.celery.dispatcher import PUBLISH_BATCH, CeleryBrokerProbe, CeleryTaskDispatcher
from domain.task import Priority
from tests.factories import make_task


def queued(client: redis.Redis, queue: str) -> list[dict[str, Any]]:
    """The messages waiting in a queue, oldest first (kombu LPUSHes and BRPOPs a list)."""
    raw = client.lrange(queue, 0, -1)
    return [json.loads(item) for item in reversed(raw)]


def body_of(message: dict[str, Any]) -> Any:
    assert message["properties"]["body_encoding"] == "base64"
    return json.loads(base64.b64decode(message["body"]))


def test_a_task_is_published_as_a_taskhub_message_carrying_only_its_id(
    dispatcher: CeleryTaskDispatcher, redis_client: redis.Redis
) -> None:
    task = make_task(task_type="sleep", kwargs={"seconds": 5})

    dispatcher.enqueue([task])

    [message] = queued(redis_client, "default")
    assert message["content-type"] == "application/json"
    assert message["headers"]["task"] == "taskhub.sleep"
    assert message["headers"]["id"] == str(task.id)
    assert str(task.id) in message["headers"]["argsrepr"]
    assert message["headers"]["eta"] is None
    args, kwargs, _ = body_of(message)
    assert (args, kwargs) == ([str(task.id)], {})
    assert message["properties"]["delivery_info"] == {"exchange": "", "routing_key": "default"}


@pytest.mark.parametrize(
    ("priority", "queue"),
    [
        (Priority.HIGH, "high_priority"),
        (Priority.NORMAL, "default"),
        (Priority.LOW, "low_priority"),
    ],
)
def test_each_priority_goes_to_its_own_queue(
    dispatcher: CeleryTaskDispatcher, redis_client: redis.Redis, priority: Priority, queue: str
) -> None:
    task = make_task(priority=priority)

    dispatcher.enqueue([task])

    assert [m["headers"]["id"] for m in queued(redis_client, queue)] == [str(task.id)]
    others = {"high_priority", "default", "low_priority"} - {queue}
    assert all(redis_client.llen(other) == 0 for other in others)


def test_several_tasks_in_one_call_are_all_published_in_order(
    dispatcher: CeleryTaskDispatcher, redis_client: redis.Redis
) -> None:
    tasks = [make_task(priority=p) for p in (Priority.LOW, Priority.HIGH, Priority.LOW)]

    dispatcher.enqueue(tasks)

    assert [m["headers"]["id"] for m in queued(redis_client, "low_priority")] == [
        str(tasks[0].id),
        str(tasks[2].id),
    ]
    assert [m["headers"]["id"] for m in queued(redis_client, "high_priority")] == [str(tasks[1].id)]


def test_a_batch_larger_than_one_pipeline_is_published_whole_and_in_order(
    dispatcher: CeleryTaskDispatcher, redis_client: redis.Redis
) -> None:
    tasks = [make_task() for _ in range(PUBLISH_BATCH + 7)]

    dispatcher.enqueue(tasks)

    assert [m["headers"]["id"] for m in queued(redis_client, "default")] == [
        str(t.id) for t in tasks
    ]


def test_a_countdown_sets_the_eta(
    dispatcher: CeleryTaskDispatcher, redis_client: redis.Redis
) -> None:
    before = datetime.now(UTC)

    dispatcher.enqueue([make_task()], countdown=30)

    [message] = queued(redis_client, "default")
    eta = datetime.fromisoformat(message["headers"]["eta"])
    assert before + timedelta(seconds=29) <= eta <= datetime.now(UTC) + timedelta(seconds=31)


def test_nothing_to_enqueue_touches_no_broker(closed_port_app: Celery) -> None:
    CeleryTaskDispatcher(closed_port_app).enqueue([])


def test_publishing_still_lands_after_redis_lost_its_keys(
    dispatcher: CeleryTaskDispatcher, redis_client: redis.Redis
) -> None:
    # A flushed (or restarted, unpersisted) Redis has lost kombu's exchange bindings, while
    # the publisher's pooled connection still believes them declared.
    dispatcher.enqueue([make_task()])
    redis_client.flushdb()
    task = make_task()

    dispatcher.enqueue([task])

    assert [m["headers"]["id"] for m in queued(redis_client, "default")] == [str(task.id)]


def test_revoke_is_accepted_while_the_broker_is_up(dispatcher: CeleryTaskDispatcher) -> None:
    dispatcher.revoke(make_task().id)


def test_the_probe_passes_while_the_broker_is_up(celery_app: Celery) -> None:
    probe = CeleryBrokerProbe(celery_app)

    probe.check()

    assert probe.name == "broker"


def test_an_app_whose_broker_calls_could_hang_is_refused() -> None:
    plain = Celery("plain", broker="redis://127.0.0.1:1/0", set_as_current=False)

    with pytest.raises(TypeError, match="FailFastAMQP"):
        CeleryTaskDispatcher(plain)

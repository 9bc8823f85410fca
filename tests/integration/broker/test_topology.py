"""The queue topology and the Celery settings shared by publishers and workers."""

from __future__ import annotations

import re

import pytest
from celery import current_app
from kombu import Queue
from kombu.transport.virtual.exchange import TopicExchange

from adapters.celery.connection import FailFastAMQP
from adapters.celery.topology import (
    celery_settings,
    create_celery_app,
    destination,
    routing_key,
    task_name,
    task_queues,
)
from domain.task import Priority

REDIS = "redis://127.0.0.1:6379/15"
RABBITMQ = "amqp://guest:guest@127.0.0.1:5672//"


def binding_matches(binding: str, key: str) -> bool:
    pattern = TopicExchange(None).key_to_pattern(binding)
    return re.match(pattern, key) is not None


def test_queues_are_listed_highest_priority_first() -> None:
    names = [queue.name for queue in task_queues()]

    assert names == ["high_priority", "default", "low_priority"]
    assert names == [p.queue for p in (Priority.HIGH, Priority.NORMAL, Priority.LOW)]


@pytest.mark.parametrize("queue", task_queues(), ids=lambda q: q.name)
def test_each_queue_is_bound_to_a_topic_exchange_of_its_name(queue: Queue) -> None:
    assert queue.exchange.name == queue.name
    assert queue.exchange.type == "topic"
    assert queue.routing_key == f"{queue.name}.#"


@pytest.mark.parametrize("task_type", ["sleep", "validate_model", "model.validate.deep"])
def test_the_binding_matches_every_task_type_of_its_queue_and_no_other_queue(
    task_type: str,
) -> None:
    key = routing_key("default", task_type)

    assert key == f"default.{task_type}"
    assert binding_matches("default.#", key)
    assert not binding_matches("high_priority.#", key)


def test_a_one_word_binding_would_lose_dotted_task_types() -> None:
    assert not binding_matches("default.*", routing_key("default", "model.validate"))


def test_task_names_are_prefixed() -> None:
    assert task_name("sleep") == "taskhub.sleep"


def test_on_rabbitmq_a_message_goes_to_the_queues_exchange_with_the_task_type() -> None:
    assert destination("low_priority", "bulk", broker_url=RABBITMQ) == (
        "low_priority",
        "low_priority.bulk",
    )


def test_on_redis_a_message_goes_straight_to_the_queue() -> None:
    assert destination("low_priority", "bulk", broker_url=REDIS) == ("", "low_priority")


def test_settings_accept_json_only_and_never_create_queues() -> None:
    settings = celery_settings(broker_url=REDIS, visibility_timeout=600)

    assert settings["task_serializer"] == settings["result_serializer"] == "json"
    assert settings["accept_content"] == settings["result_accept_content"] == ["json"]
    assert settings["task_create_missing_queues"] is False
    assert settings["task_default_queue"] == "default"


def test_settings_ack_late_and_prefetch_one() -> None:
    settings = celery_settings(broker_url=REDIS, visibility_timeout=600)

    assert settings["task_acks_late"] is True
    assert settings["task_reject_on_worker_lost"] is True
    assert settings["worker_prefetch_multiplier"] == 1
    assert settings["broker_connection_retry_on_startup"] is True


def test_publishing_fails_fast() -> None:
    settings = celery_settings(broker_url=REDIS, visibility_timeout=600)
    options = settings["broker_transport_options"]

    assert settings["task_publish_retry"] is False
    assert settings["broker_connection_timeout"] <= 2
    assert settings["broker_pool_acquire_timeout"] <= 2
    assert options["max_retries"] <= 1
    assert options["socket_connect_timeout"] <= 2
    assert options["socket_timeout"] <= 2


def test_redis_options_give_strict_queue_priority_and_redelivery() -> None:
    options = celery_settings(broker_url=REDIS, visibility_timeout=600)["broker_transport_options"]

    assert options["queue_order_strategy"] == "priority"
    assert options["priority_steps"] == [0]
    assert options["visibility_timeout"] == 600


def test_rabbitmq_gets_publisher_confirms_and_no_redis_options() -> None:
    options = celery_settings(broker_url=RABBITMQ, visibility_timeout=600)[
        "broker_transport_options"
    ]

    assert options["confirm_publish"] is True
    assert not {"queue_order_strategy", "visibility_timeout", "socket_timeout"} & set(options)


def test_the_app_is_configured_but_not_made_current() -> None:
    app = create_celery_app(broker_url=REDIS, visibility_timeout=600)

    assert app.conf.task_default_queue == "default"
    assert [q.name for q in app.conf.task_queues] == [
        "high_priority",
        "default",
        "low_priority",
        "webhooks",  # webhook deliveries, after the task queues
    ]
    assert isinstance(app.amqp, FailFastAMQP)
    assert current_app._get_current_object() is not app

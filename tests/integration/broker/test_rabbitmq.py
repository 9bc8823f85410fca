"""The Celery adapters on a real RabbitMQ (TASKHUB_TEST_AMQP_URL), in a virtual host of this
module's own: topology, routing, queue depth, revoke broadcast, and a broker that is down,
hung (a proxy that stops forwarding) or closes its connections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from celery import Celery
from kombu import Connection, Message

from adapters.celery.dispatcher import CeleryBrokerProbe, CeleryTaskDispatcher
from adapters.celery.queue_depth import CeleryQueueDepths
from adapters.celery.topology import QUEUE_NAMES, create_celery_app, task_queues
from application.errors import DependencyUnavailableError
from domain.task import Priority
from tests.factories import make_task
from tests.integration.broker.deadline import run_within
from tests.support.rabbitmq import amqp_server_url, rabbitmq_vhost, rabbitmqctl, vhost_of
from tests.support.redis_server import HOST, free_port
from tests.support.tcp_proxy import TcpProxy

VISIBILITY_TIMEOUT = 3600
# What a request may wait on a hung broker; the settings aim at ~2 s (BROKER_TIMEOUT).
HUNG_DEADLINE = 4.0

Operation = Callable[[Celery], None]


def enqueue(app: Celery) -> None:
    CeleryTaskDispatcher(app).enqueue([make_task()])


def enqueue_batch(app: Celery) -> None:
    CeleryTaskDispatcher(app).enqueue([make_task() for _ in range(3)])


def revoke(app: Celery) -> None:
    CeleryTaskDispatcher(app).revoke(make_task().id)


def probe(app: Celery) -> None:
    CeleryBrokerProbe(app).check()


def queue_depth(app: Celery) -> None:
    CeleryQueueDepths(app).read()


OPERATIONS = [
    pytest.param(op, id=op.__name__) for op in (enqueue, enqueue_batch, revoke, probe, queue_depth)
]


@pytest.fixture(scope="module")
def vhost_url() -> Iterator[str]:
    with rabbitmq_vhost(amqp_server_url()) as url:
        yield url


@pytest.fixture
def amqp_url(vhost_url: str) -> str:
    """The module's virtual host with taskhub's queues declared (as a worker does) and empty.

    Purged, not deleted: kombu's producer pools are per process and broker URL, and a
    publisher that declared a queue does not declare it again (see the deletion test).
    """
    declare_as_a_worker_does(make_app(vhost_url))
    with Connection(vhost_url) as connection:
        for name in QUEUE_NAMES:
            connection.default_channel.queue_purge(name)
    return vhost_url


def make_app(url: str) -> Celery:
    return create_celery_app(broker_url=url, visibility_timeout=VISIBILITY_TIMEOUT)


@pytest.fixture
def app(amqp_url: str) -> Celery:
    return make_app(amqp_url)


def declare_as_a_worker_does(app: Celery) -> None:
    with app.connection_for_write() as connection:
        for queue in app.amqp.queues.values():
            queue(connection.default_channel).declare()


def delete_queue(url: str, name: str) -> None:
    with Connection(url) as connection:
        connection.default_channel.queue_delete(name)


def take(url: str, queue_name: str) -> Message | None:
    """The next message waiting in a queue (basic.get), acknowledged; None when empty."""
    [queue] = [q for q in task_queues() if q.name == queue_name]
    with Connection(url) as connection:
        message: Message | None = queue(connection.default_channel).get(
            no_ack=True, accept=["json"]
        )
    return message


def listing(*arguments: str) -> list[list[str]]:
    output = rabbitmqctl(*arguments, "--no-table-headers")
    return [line.split("\t") for line in output.splitlines() if line.strip()]


def test_queues_are_durable_and_bound_to_durable_topic_exchanges_with_a_hash_binding(
    amqp_url: str,
) -> None:
    vhost = vhost_of(amqp_url)

    queues = dict(listing("list_queues", "-p", vhost, "name", "durable"))
    exchanges = {
        name: (kind, durable)
        for name, kind, durable in listing("list_exchanges", "-p", vhost, "name", "type", "durable")
    }
    bindings = listing(
        "list_bindings", "-p", vhost, "source_name", "destination_name", "routing_key"
    )

    for name in QUEUE_NAMES:
        assert queues[name] == "true"
        assert exchanges[name] == ("topic", "true")
        assert [name, name, f"{name}.#"] in bindings


def test_a_task_goes_to_its_queues_topic_exchange_keyed_by_its_type_as_a_persistent_message(
    app: Celery, amqp_url: str
) -> None:
    task = make_task(priority=Priority.LOW, task_type="model.validate")

    CeleryTaskDispatcher(app).enqueue([task])

    message = take(amqp_url, "low_priority")
    assert message is not None
    assert message.delivery_info["exchange"] == "low_priority"
    assert message.delivery_info["routing_key"] == "low_priority.model.validate"
    assert message.headers["task"] == "taskhub.model.validate"
    assert message.headers["id"] == str(task.id)
    assert message.content_type == "application/json"
    assert message.properties["delivery_mode"] == 2  # persistent: survives a broker restart
    assert take(amqp_url, "default") is None


def test_several_tasks_in_one_call_all_land_in_their_queues_in_order(
    app: Celery, amqp_url: str
) -> None:
    tasks = [make_task(priority=p) for p in (Priority.LOW, Priority.HIGH, Priority.LOW)]

    CeleryTaskDispatcher(app).enqueue(tasks)

    low = [take(amqp_url, "low_priority"), take(amqp_url, "low_priority")]
    high = take(amqp_url, "high_priority")
    assert [m.headers["id"] for m in low if m] == [str(tasks[0].id), str(tasks[2].id)]
    assert high is not None
    assert high.headers["id"] == str(tasks[1].id)


def test_a_queue_deleted_behind_the_publishers_back_fails_one_publish_then_is_declared_again(
    app: Celery, amqp_url: str
) -> None:
    dispatcher = CeleryTaskDispatcher(app)
    dispatcher.enqueue([make_task()])  # this connection now believes "default" declared
    delete_queue(amqp_url, "default")

    # Unroutable, returned by the broker (mandatory): an error, not a silent loss.
    with pytest.raises(DependencyUnavailableError):
        dispatcher.enqueue([make_task()])
    task = make_task()
    dispatcher.enqueue([task])

    message = take(amqp_url, "default")
    assert message is not None
    assert message.headers["id"] == str(task.id)


def test_the_queue_depth_counts_the_messages_waiting_in_each_queue(app: Celery) -> None:
    depths = CeleryQueueDepths(app)
    assert depths.read() == dict.fromkeys(QUEUE_NAMES, 0)

    CeleryTaskDispatcher(app).enqueue(
        [make_task(priority=Priority.NORMAL), make_task(priority=Priority.NORMAL)]
    )

    assert depths.read() == {"high_priority": 0, "default": 2, "low_priority": 0}


def test_a_queue_not_declared_yet_has_a_depth_of_zero() -> None:
    # Before any worker started and before any publish: RabbitMQ does not know the queues.
    with rabbitmq_vhost(amqp_server_url()) as url:
        assert CeleryQueueDepths(make_app(url)).read() == dict.fromkeys(QUEUE_NAMES, 0)


def test_a_revoke_is_broadcast_to_every_workers_mailbox(app: Celery, amqp_url: str) -> None:
    mailbox = app.control.mailbox
    task_id = make_task().id
    with Connection(amqp_url) as connection:
        channel = connection.default_channel
        # As a worker does: a queue of its own bound to the fanout exchange.
        inbox = mailbox.get_queue("worker-under-test@host")(channel)
        inbox.declare()
        try:
            CeleryTaskDispatcher(app).revoke(task_id)

            message: Any = inbox.get(no_ack=True, accept=["json"])
        finally:
            inbox.delete()

    assert message is not None
    assert message.delivery_info["exchange"] == mailbox.exchange.name
    assert mailbox.exchange.type == "fanout"
    assert message.payload["method"] == "revoke"
    assert message.payload["arguments"]["task_id"] == str(task_id)


def test_the_probe_passes_while_the_broker_is_up(app: Celery) -> None:
    CeleryBrokerProbe(app).check()


def assert_unavailable_within(seconds: float, operation: Operation, app: Celery) -> None:
    elapsed, error = run_within(seconds * 3, lambda: operation(app))

    assert isinstance(error, DependencyUnavailableError), error
    assert error.dependency == "broker"
    assert elapsed < seconds


@pytest.mark.parametrize("operation", OPERATIONS)
def test_nothing_listening_fails_at_once(operation: Operation) -> None:
    app = make_app(f"amqp://guest:guest@{HOST}:{free_port()}//")

    assert_unavailable_within(1.0, operation, app)


@pytest.fixture
def proxy(amqp_url: str) -> Iterator[TcpProxy]:
    """A proxy to the RabbitMQ under test, which the test may freeze or cut."""
    with TcpProxy(urlsplit(amqp_url).port or 5672) as started:
        yield started


def proxied(url: str, proxy: TcpProxy) -> str:
    parts = urlsplit(url)
    credentials = f"{parts.username}:{parts.password}@" if parts.username else ""
    return parts._replace(netloc=f"{credentials}{HOST}:{proxy.port}").geturl()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_hung_broker_fails_every_call_after_the_timeout_even_on_a_used_connection(
    operation: Operation, amqp_url: str, proxy: TcpProxy
) -> None:
    # A publish only fails here because it waits for the broker's confirm, and only within
    # the deadline because the socket has a read timeout: without either it returns at once
    # (the message lost) or never.
    app = make_app(proxied(amqp_url, proxy))
    enqueue(app)
    revoke(app)  # both pools now hold live connections
    proxy.freeze()

    try:
        assert_unavailable_within(HUNG_DEADLINE, operation, app)
    finally:
        proxy.thaw()


def test_publishing_resumes_once_a_hung_broker_answers_again(
    amqp_url: str, proxy: TcpProxy
) -> None:
    app = make_app(proxied(amqp_url, proxy))
    dispatcher = CeleryTaskDispatcher(app)
    dispatcher.enqueue([make_task()])
    proxy.freeze()
    try:
        _, error = run_within(HUNG_DEADLINE * 3, lambda: dispatcher.enqueue([make_task()]))
    finally:
        proxy.thaw()
    assert isinstance(error, DependencyUnavailableError), error
    task = make_task(priority=Priority.HIGH)

    dispatcher.enqueue([task])

    message = take(amqp_url, "high_priority")
    assert message is not None
    assert message.headers["id"] == str(task.id)


def test_after_the_broker_closed_the_connections_at_most_one_publish_fails(
    amqp_url: str, proxy: TcpProxy
) -> None:
    # As after a broker restart: a pooled connection is found dead when used, and that
    # publish fails at once (the outbox relay republishes it); the pool then reconnects.
    app = make_app(proxied(amqp_url, proxy))
    dispatcher = CeleryTaskDispatcher(app)
    dispatcher.enqueue([make_task()])
    proxy.cut()
    outcomes = []
    for _ in range(2):
        elapsed, error = run_within(5, lambda: dispatcher.enqueue([make_task()]))
        outcomes.append(error)
        assert elapsed < 1.0

    assert outcomes[-1] is None
    assert all(e is None or isinstance(e, DependencyUnavailableError) for e in outcomes)
    CeleryBrokerProbe(app).check()

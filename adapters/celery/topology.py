"""The broker topology as data, and the Celery settings publishers and workers share."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from kombu.entity import Exchange, Queue
from redis.backoff import NoBackoff
from redis.retry import Retry

from adapters.celery.connection import FailFastAMQP
from adapters.celery.redis_transport import use_these_redis_transports
from domain.task import Priority

# Highest priority first: this order is the consumption order on Redis (see `_redis_options`).
QUEUE_NAMES: tuple[str, ...] = tuple(
    p.queue for p in (Priority.HIGH, Priority.NORMAL, Priority.LOW)
)
# Webhook deliveries have a queue of their own: slow receivers never hold up tasks, and
# workers may be given to them alone.
WEBHOOK_QUEUE = "webhooks"
WEBHOOK_TASK = "webhooks.deliver"
TASK_NAME_PREFIX = "taskhub."
# Seconds a publish, a connect or a probe may take before the broker counts as down.
BROKER_TIMEOUT = 2.0
_REDIS_SCHEMES = frozenset({"redis", "rediss", "sentinel"})
_AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
# kombu's Redis Sentinel transport asks the sentinels for the master of this name.
DEFAULT_SENTINEL_MASTER = "mymaster"


def task_name(task_type: str) -> str:
    """The Celery task name registered for a task type."""
    return TASK_NAME_PREFIX + task_type


def routing_key(queue: str, task_type: str) -> str:
    return f"{queue}.{task_type}"


def _scheme(broker_url: str) -> str:
    # "sentinel://a:26379;sentinel://b:26379" (kombu's list of sentinels) has the first's.
    return urlsplit(broker_url).scheme.split("+")[0]


def is_redis(broker_url: str) -> bool:
    """Redis, also through Sentinel: the Redis-specific options and routing apply."""
    return _scheme(broker_url) in _REDIS_SCHEMES


def is_amqp(broker_url: str) -> bool:
    """RabbitMQ (py-amqp): real exchanges, publisher confirms, socket timeouts."""
    return _scheme(broker_url) in _AMQP_SCHEMES


def destination(queue: str, task_type: str, *, broker_url: str) -> tuple[str, str]:
    """The exchange and routing key to publish a task type's message on `queue` with.

    On RabbitMQ: the queue's topic exchange, with `<queue>.<task_type>`. On Redis: the
    default exchange, straight to the queue's list. kombu emulates Redis exchanges with
    binding keys stored in Redis; a restarted or flushed Redis has lost them while every
    publisher still believes them declared (cached in memory), and kombu then drops each
    message published to the exchange without an error (seen with kombu 5.7).
    """
    if is_redis(broker_url):
        return "", queue
    return queue, routing_key(queue, task_type)


def publish_options(broker_url: str) -> dict[str, Any]:
    """Options for every task publish on this broker, beside its destination.

    Redis: no declaration (see below).

    RabbitMQ: `mandatory`. A publisher declares each queue once per connection and then
    trusts its cache; a queue deleted behind its back (by hand, or a node that lost it) makes
    the exchange route the message nowhere, and RabbitMQ confirms an unroutable message like
    any other: lost without an error (measured). Mandatory makes the broker return it, which
    fails the publish (312 NO_ROUTE, a broker error: the outbox relays the task); the pool
    replaces that connection, and the next publish declares the queue again.
    """
    if is_amqp(broker_url):
        return {"mandatory": True}
    # Redis: the default exchange pushes straight onto the queue's list, which needs no
    # binding, so the queue is not declared (Celery binds its entity again for every
    # message: a fifth of a publish's CPU, profiled).
    return {"declare": []} if is_redis(broker_url) else {}


def task_queues() -> list[Queue]:
    """The three queues, highest priority first, each bound to a topic exchange of its name.

    The binding is `<queue>.#`, not `<queue>.*`: task types may contain dots
    ("model.validate"), and `*` matches one word only, so such messages would be unroutable
    (dropped without an error on Redis and on RabbitMQ alike). New objects on every call
    because kombu binds and mutates the Queue objects it is given.
    """
    return [_queue(name) for name in QUEUE_NAMES]


def _queue(name: str) -> Queue:
    # Durable on RabbitMQ: queues, bindings and (persistent) messages survive its restart.
    exchange = Exchange(name, type="topic", durable=True)
    return Queue(name, exchange, routing_key=f"{name}.#", durable=True)


def celery_settings(
    *,
    broker_url: str,
    visibility_timeout: float,
    sentinel_master: str = DEFAULT_SENTINEL_MASTER,
) -> dict[str, Any]:
    """Every Celery setting taskhub relies on, for the API's app and the worker's alike."""
    return {
        "broker_url": broker_url,
        "broker_transport_options": transport_options(
            broker_url, visibility_timeout=visibility_timeout, sentinel_master=sentinel_master
        ),
        # JSON only: a pickle-accepting worker would run whatever reaches the broker.
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_queues": [*task_queues(), _queue(WEBHOOK_QUEUE)],
        "task_default_queue": Priority.NORMAL.queue,
        # A typo in a queue name must fail the publish, not create a queue nobody consumes.
        "task_create_missing_queues": False,
        # Task state lives in SQL; Celery's result backend is not used.
        "task_ignore_result": True,
        # Ack after the run, and requeue when the worker process dies: at-least-once.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        # One message reserved per process, so priority is decided when a process is free.
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # Publishing fails fast and is not retried: the outbox relay republishes later. A
        # retry would triple the wait on a hung broker (measured: 6 s instead of 2 s), and a
        # pooled Redis connection the broker dropped is reconnected by redis-py anyway.
        "broker_connection_timeout": BROKER_TIMEOUT,
        "broker_pool_acquire_timeout": BROKER_TIMEOUT,
        "task_publish_retry": False,
    }


def configure_celery_app(
    app: Celery,
    *,
    broker_url: str,
    visibility_timeout: float,
    sentinel_master: str = DEFAULT_SENTINEL_MASTER,
) -> None:
    app.conf.update(
        celery_settings(
            broker_url=broker_url,
            visibility_timeout=visibility_timeout,
            sentinel_master=sentinel_master,
        )
    )


def create_celery_app(
    *,
    broker_url: str,
    visibility_timeout: float,
    sentinel_master: str = DEFAULT_SENTINEL_MASTER,
    main: str = "taskhub",
) -> Celery:
    """A configured app, not made the process-wide current app, whose broker calls all give
    up after a bounded time (see FailFastConnection), and whose Redis connections survive
    a server restart (see redis_transport)."""
    use_these_redis_transports()
    app = Celery(main, amqp=FailFastAMQP, set_as_current=False)
    configure_celery_app(
        app,
        broker_url=broker_url,
        visibility_timeout=visibility_timeout,
        sentinel_master=sentinel_master,
    )
    return app


def transport_options(
    broker_url: str,
    *,
    visibility_timeout: float,
    sentinel_master: str = DEFAULT_SENTINEL_MASTER,
) -> dict[str, Any]:
    """kombu transport options: the broker-agnostic ones, then the broker's own."""
    # Read by kombu when a pooled connection (re)connects for a publish: without them it
    # retries forever, which would hang an API request while the broker is down.
    options: dict[str, Any] = {
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.2,
    }
    if is_redis(broker_url):
        options.update(_redis_options(visibility_timeout))
        if _scheme(broker_url) == "sentinel":
            options.update(_sentinel_options(sentinel_master))
    elif is_amqp(broker_url):
        options.update(_amqp_options())
    return options


def _sentinel_options(master_name: str) -> dict[str, Any]:
    """The master to ask the sentinels for, and bounded, unretried calls to each sentinel.

    kombu builds a redis-py client per listed sentinel from `sentinel_kwargs`, and a client
    built without `retry` gets redis-py's default: three retries with exponential back-off,
    per sentinel, per look-up. With a sentinel down that made every connect wait for it
    (measured: 7 s to fail with none answering, 44 s for a round trip with the first one
    listed down). Without retries a dead sentinel costs a refused connect (or the timeout)
    and the next one is asked. The master's own connections take the Redis options.
    """
    return {
        "master_name": master_name,
        "sentinel_kwargs": {
            "socket_connect_timeout": BROKER_TIMEOUT,
            "socket_timeout": BROKER_TIMEOUT,
            "retry": Retry(NoBackoff(), 0),
        },
    }


def _amqp_options() -> dict[str, Any]:
    """Publisher confirms, and socket timeouts that bound every wait on RabbitMQ.

    kombu hands these to `amqp.Connection` as keyword arguments. Without confirms a message
    the broker refuses (or loses before writing it) is lost without any error. With them a
    publish waits for the broker's ack, and without `read_timeout` (SO_RCVTIMEO) that wait
    never ends on a hung broker or a connection that died silently (measured: a publish
    still waiting after 15 s). `connect_timeout` bounds the TCP connect and the handshake,
    `write_timeout` (SO_SNDTIMEO) a send into a full socket buffer. The worker reads only
    when its socket is readable, so an idle worker is not affected by `read_timeout`, and
    its own heart-beats (Celery's broker_heartbeat) notice a dead connection.
    """
    return {
        "confirm_publish": True,
        "connect_timeout": BROKER_TIMEOUT,
        "read_timeout": BROKER_TIMEOUT,
        "write_timeout": BROKER_TIMEOUT,
    }


def _redis_options(visibility_timeout: float) -> dict[str, Any]:
    """Strict priority across queues, bounded waits and redelivery of unacked messages.

    kombu's Redis transport consumes with one BRPOP over the keys of all consumed queues,
    which Redis serves from the first non-empty key. `queue_order_strategy="priority"`
    keeps the keys in the order the consumer declared its queues (the default,
    "round_robin", moves the queue just served to the end, i.e. fair, not prioritised).
    The consumer must therefore list the queues highest first, as `task_queues()` does (a
    worker started with `-Q` must name them in that order). kombu 5.7 keeps the order
    (`Channel.active_queues` is an ordered list; releases that returned a set made it
    arbitrary); tests/integration/broker/test_priority_order.py guards it.

    `priority_steps=[0]`: per-message priorities would add one list per step and queue,
    and BRPOP orders keys by step before queue, so a priority-3 message on high_priority
    would wait behind a priority-0 message on low_priority. Priority here is the queue.

    `visibility_timeout`: an unacked message is redelivered after this many seconds, so it
    must exceed the longest task run plus any countdown (workers hold ETA messages unacked).
    """
    return {
        "queue_order_strategy": "priority",
        "priority_steps": [0],
        "visibility_timeout": visibility_timeout,
        "socket_connect_timeout": BROKER_TIMEOUT,
        # Bounds a command on a broker that stopped answering; above kombu's 1 s BRPOP
        # timeout, so a worker's idle poll is not mistaken for a hang.
        "socket_timeout": BROKER_TIMEOUT,
    }

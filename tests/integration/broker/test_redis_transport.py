"""A worker's Redis connection torn down under a lost server closes as a connection error,
and the message it held unacknowledged is delivered again once the server is back."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Message, Producer, Queue
from kombu.transport import redis as kombu_redis

from adapters.celery import redis_transport
from adapters.celery.topology import create_celery_app
from tests.support.redis_server import RedisServer

TASKS = Queue("default", Exchange("default", type="topic"), routing_key="default.#")
# A fanout queue deleted when its channel closes, like the worker's remote-control queue: it
# is what makes dropping the transport stop before the task channel was closed.
BROADCAST = Queue("control", Exchange("control", type="fanout"), auto_delete=True)


@contextmanager
def holding_an_unacked_message(
    server: RedisServer, transport: type, *, visibility_timeout: float = 3600
) -> Iterator[Connection]:
    """A connection consuming as a worker does (tasks on the default channel, broadcasts on a
    second one) with one task message delivered and not acknowledged."""
    connection = Connection(
        server.url,
        transport=transport,
        transport_options={"visibility_timeout": visibility_timeout},
    )
    with Producer(connection) as producer:
        producer.publish(
            {"n": 1}, exchange=TASKS.exchange, routing_key="default.x", declare=[TASKS]
        )
    delivered: list[Message] = []
    consume(connection, TASKS, delivered)
    consume(connection.channel(), BROADCAST, [])
    drain_until(connection, delivered)
    with contextlib.suppress(TimeoutError):  # polls for the next one, as a worker does
        connection.drain_events(timeout=0.2)
    yield connection


def consume(channel: object, queue: Queue, into: list[Message]) -> None:
    Consumer(channel, [queue], callbacks=[lambda _, m: into.append(m)], accept=["json"]).consume()


def drain_until(connection: Connection, delivered: list[Message]) -> None:
    deadline = time.monotonic() + 5
    while not delivered and time.monotonic() < deadline:
        with contextlib.suppress(TimeoutError):
            connection.drain_events(timeout=0.5)
    assert len(delivered) == 1


def drop_like_celery_on_connection_loss(connection: Connection) -> None:
    """What Celery's consumer does with its connection when the broker went away."""
    connection.collect(socket_timeout=1)
    connection.close()


def shut_down_saving(server: RedisServer) -> None:
    client = redis.Redis.from_url(server.url)
    try:
        client.shutdown(save=True)
    except redis.ConnectionError:
        pass  # the server closed the connection on its way out
    finally:
        client.close()
    server.stop()


def test_closing_after_the_server_went_away_raises_nothing(own_redis: RedisServer) -> None:
    with holding_an_unacked_message(own_redis, redis_transport.Transport) as connection:
        own_redis.stop()

        drop_like_celery_on_connection_loss(connection)


def test_kombus_own_transport_still_fails_there(own_redis: RedisServer) -> None:
    """Why redis_transport exists: when this fails, kombu fixed it and the module can go."""
    with holding_an_unacked_message(own_redis, kombu_redis.Transport) as connection:
        own_redis.stop()

        with pytest.raises(AttributeError, match="hostname"):
            drop_like_celery_on_connection_loss(connection)


def test_the_unacked_message_is_delivered_again_after_the_restart(own_redis: RedisServer) -> None:
    with holding_an_unacked_message(
        own_redis, redis_transport.Transport, visibility_timeout=1
    ) as connection:
        shut_down_saving(own_redis)
        drop_like_celery_on_connection_loss(connection)

    own_redis.start()
    time.sleep(1.2)  # past the visibility timeout
    again: list[Message] = []
    with Connection(
        own_redis.url,
        transport=redis_transport.Transport,
        transport_options={"visibility_timeout": 1},
    ) as fresh:
        consume(fresh, TASKS, again)
        drain_until(fresh, again)

    assert [m.payload for m in again] == [{"n": 1}]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:1/0", redis_transport.Transport),
        ("rediss://127.0.0.1:1/0", redis_transport.Transport),
        ("sentinel://127.0.0.1:1", redis_transport.SentinelTransport),
    ],
)
def test_taskhubs_celery_app_uses_these_transports(url: str, expected: type) -> None:
    app = create_celery_app(broker_url=url, visibility_timeout=3600)
    try:
        connection = app.connection_for_write()
        assert type(connection.transport) is expected
        assert connection.as_uri().startswith(url.split("://")[0] + "://")
    finally:
        app.close()

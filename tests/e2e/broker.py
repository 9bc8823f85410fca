"""A broker of a stack's own: a leased Redis database, or a RabbitMQ virtual host.

Redis: a database of the stack's own on the test Redis, leased so no other stack shares it.

Stacks of this run and of other test runs on the same server (TASKHUB_TEST_REDIS_URL is
often shared) must never consume each other's queues, and other suites flush the configured
database at will. So a stack claims another database number with an expiring lease
(`SET NX`): database 0 (everybody's default) and the configured one are never used, and a
database holding someone else's keys is left alone. A database a crashed e2e run left
behind carries its mark and is taken back.

RabbitMQ: a new virtual host per stack on the server TASKHUB_TEST_AMQP_URL names, deleted
with everything in it at the end (tests/support/rabbitmq.py); without the variable the
RabbitMQ variants skip, and fail under TASKHUB_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit
from uuid import uuid4

import redis

from tests.support.rabbitmq import amqp_server_url as amqp_server_url  # re-exported
from tests.support.rabbitmq import rabbitmq_vhost as rabbitmq_vhost  # re-exported
from tests.support.redis_server import HOST, free_port

LEASE_KEY = "taskhub-e2e:lease"
MARK_KEY = "taskhub-e2e:stack-database"
LEASE_SECONDS = 1800
DEFAULT_DATABASES = 16


@contextmanager
def leased_redis_database(server_url: str) -> Iterator[str]:
    """The URL of an empty database on `server_url`'s server, flushed again on the way out."""
    base, _, configured = server_url.rpartition("/")
    token = uuid4().hex
    for number in _candidates(server_url, avoid=int(configured or 0)):
        url = f"{base}/{number}"
        if _claim(url, token):
            break
    else:
        raise RuntimeError(f"no free Redis database for an e2e stack on {base}")
    try:
        yield url
    finally:
        _release(url, token)


def _candidates(server_url: str, *, avoid: int) -> list[int]:
    with redis.Redis.from_url(server_url) as client:
        try:
            count = int(client.config_get("databases").get("databases", DEFAULT_DATABASES))
        except redis.ResponseError:  # CONFIG may be disabled on a shared server
            count = DEFAULT_DATABASES
    # Nearest below the configured one first: the numbers a test setup is least likely to use.
    return [*range(avoid - 1, 0, -1), *range(max(avoid + 1, 1), count)]


def _claim(url: str, token: str) -> bool:
    with redis.Redis.from_url(url) as client:
        if not client.set(LEASE_KEY, token, nx=True, ex=LEASE_SECONDS):
            return False  # a live stack has it
        if client.dbsize() > 1 and not client.exists(MARK_KEY):
            client.delete(LEASE_KEY)
            return False  # someone else's data
        with client.pipeline(transaction=True) as pipe:
            pipe.flushdb()
            pipe.set(LEASE_KEY, token, ex=LEASE_SECONDS)
            pipe.set(MARK_KEY, "1")
            pipe.execute()
        return True


def _release(url: str, token: str) -> None:
    with (
        redis.Redis.from_url(url) as client,
        client.pipeline(transaction=True) as pipe,
        contextlib.suppress(redis.WatchError),
    ):
        pipe.watch(LEASE_KEY)
        if pipe.get(LEASE_KEY) == token.encode():
            pipe.multi()
            pipe.flushdb()
            pipe.execute()


def closed_broker_url(broker_url: str) -> str:
    """A URL of the same kind of broker as `broker_url`, where nothing listens."""
    scheme = urlsplit(broker_url).scheme
    if scheme.startswith("amqp"):
        return f"{scheme}://guest:guest@{HOST}:{free_port()}//"
    return f"redis://{HOST}:{free_port()}/0"


def broker_kind(broker_url: str) -> str:
    """The kind of broker a URL names: rabbitmq, or redis (a sentinel URL counts as Redis)."""
    return "rabbitmq" if urlsplit(broker_url).scheme.startswith(("amqp", "pyamqp")) else "redis"

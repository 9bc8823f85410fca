"""A Celery app, dispatcher and probe on a real Redis, and brokers that are down."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis
from celery import Celery

from adapters.celery.dispatcher import CeleryTaskDispatcher
from adapters.celery.topology import create_celery_app
from tests.support.redis_server import (
    RedisServer,
    bundled_redis_server,
    free_port,
    services_required,
)
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

VISIBILITY_TIMEOUT = 3600


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def make_app() -> Callable[[str], Celery]:
    """Builds apps the way the composition root does, for any broker URL."""

    def make(url: str) -> Celery:
        return create_celery_app(broker_url=url, visibility_timeout=VISIBILITY_TIMEOUT)

    return make


@pytest.fixture
def celery_app(
    redis_url: str, redis_client: redis.Redis, make_app: Callable[[str], Celery]
) -> Celery:
    return make_app(redis_url)


@pytest.fixture
def dispatcher(celery_app: Celery) -> CeleryTaskDispatcher:
    return CeleryTaskDispatcher(celery_app)


@pytest.fixture
def closed_port_app(make_app: Callable[[str], Celery]) -> Celery:
    """An app whose broker address has nothing listening."""
    return make_app(f"redis://127.0.0.1:{free_port()}/0")


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A private Redis the test may stop, restart or freeze (never the shared one)."""
    if bundled_redis_server() is None:
        if services_required():
            pytest.fail("no redis-server binary for outage tests", pytrace=False)
        pytest.skip("no redis-server binary for outage tests")
    with RedisServer() as server:
        yield server

"""The rate limit's token bucket in Redis: one bucket per key, shared by every process,
spaced by the limit's interval on Redis's own clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from adapters.redis.rate_limiter import PREFIX, RedisRateLimiter
from application.errors import DependencyUnavailableError
from domain.flow import RateLimit
from tests.support.redis_server import free_port
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

TEN_A_SECOND = RateLimit.parse("10/s")


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


def test_two_processes_share_one_bucket_spaced_by_the_interval(
    redis_url: str, redis_client: redis.Redis
) -> None:
    one, other = RedisRateLimiter.from_url(redis_url), RedisRateLimiter.from_url(redis_url)

    first = one.reserve("call_api", TEN_A_SECOND, 5, horizon=2.0)
    second = other.reserve("call_api", TEN_A_SECOND, 5, horizon=2.0)
    elsewhere = other.reserve("other_type", TEN_A_SECOND, 1, horizon=2.0)

    # Milliseconds pass between the calls: the second's delays count from its own now.
    assert first == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4], abs=1e-6)
    assert second == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9], abs=0.05)
    assert elsewhere == [0.0]
    assert redis_client.pttl(PREFIX + "call_api") > 0  # an idle bucket expires


def test_no_permit_beyond_the_horizon(redis_url: str, redis_client: redis.Redis) -> None:
    limiter = RedisRateLimiter.from_url(redis_url)

    assert len(limiter.reserve("call_api", TEN_A_SECOND, 100, horizon=0.45)) == 5
    assert limiter.reserve("call_api", TEN_A_SECOND, 100, horizon=0.3) == []


def test_an_unreachable_redis_is_a_dependency_unavailable() -> None:
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{free_port()}/0")

    with pytest.raises(DependencyUnavailableError):
        limiter.reserve("call_api", TEN_A_SECOND, 1, horizon=1.0)

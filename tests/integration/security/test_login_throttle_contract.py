"""The login throttles, in memory and in a real Redis, held to one contract; and what the Redis
one does when Redis is gone."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from adapters.in_memory.clock import FixedClock
from adapters.in_memory.login_throttle import InMemoryLoginThrottle
from adapters.redis.login_throttle import PREFIX, RedisLoginThrottle
from application.errors import TooManyAttemptsError
from application.login_backoff import LoginBackoff
from application.ports import LoginThrottle
from tests.support.redis_server import free_port
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

BACKOFF = LoginBackoff(free_attempts=3, first_delay=1.0, max_delay=60.0, forget_after=600.0)
KEYS = ["account:gina@example.com", "ip:192.0.2.7"]

MakeThrottle = Callable[[], LoginThrottle]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture(params=["in_memory", "redis"])
def make_throttle(request: pytest.FixtureRequest, clock: FixedClock) -> MakeThrottle:
    """Builds throttles that share their state, like the API processes of one deployment."""
    if request.param == "in_memory":
        shared = InMemoryLoginThrottle(BACKOFF, clock)
        return lambda: shared
    url = request.getfixturevalue("redis_url")
    request.getfixturevalue("redis_client")  # an empty database
    return lambda: RedisLoginThrottle.from_url(url, BACKOFF, clock)


def retry_after(throttle: LoginThrottle, keys: list[str]) -> int:
    with pytest.raises(TooManyAttemptsError) as error:
        throttle.check(keys)
    return error.value.retry_after


def fail(throttle: LoginThrottle, times: int, keys: list[str] = KEYS) -> None:
    for _ in range(times):
        throttle.check(keys)
        throttle.record_failure(keys)


# --- the contract --------------------------------------------------------------------------


def test_free_attempts_then_a_wait_that_doubles(
    make_throttle: MakeThrottle, clock: FixedClock
) -> None:
    throttle = make_throttle()
    fail(throttle, 3)
    waits = [retry_after(throttle, KEYS)]

    for _ in range(3):
        clock.advance(seconds=waits[-1])
        fail(throttle, 1)
        waits.append(retry_after(throttle, KEYS))

    assert waits == [1, 2, 4, 8]


def test_the_wait_is_capped_and_passes(make_throttle: MakeThrottle, clock: FixedClock) -> None:
    throttle = make_throttle()
    fail(throttle, 3)
    for _ in range(12):
        clock.advance(seconds=60)
        fail(throttle, 1)

    assert retry_after(throttle, KEYS) == 60
    clock.advance(seconds=60)
    throttle.check(KEYS)


def test_each_key_counts_apart_and_the_longest_wait_wins(
    make_throttle: MakeThrottle, clock: FixedClock
) -> None:
    throttle = make_throttle()
    fail(throttle, 3, ["ip:192.0.2.7"])
    clock.advance(seconds=1)
    fail(throttle, 1, ["ip:192.0.2.7"])  # 2 s to wait
    fail(throttle, 3, ["account:gina@example.com"])  # 1 s to wait

    assert retry_after(throttle, ["account:gina@example.com"]) == 1
    assert retry_after(throttle, KEYS) == 2
    throttle.check(["account:someone-else@example.com", "ip:192.0.2.8"])


def test_processes_of_one_deployment_share_the_count(make_throttle: MakeThrottle) -> None:
    first, second = make_throttle(), make_throttle()

    fail(first, 2)
    fail(second, 1)

    assert retry_after(first, KEYS) == 1


def test_reset_forgets_only_the_keys_named(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle()
    fail(throttle, 3)

    throttle.reset(["account:gina@example.com"])

    throttle.check(["account:gina@example.com"])
    assert retry_after(throttle, ["ip:192.0.2.7"]) == 1


def test_failures_are_forgotten_after_a_quiet_spell(
    make_throttle: MakeThrottle, clock: FixedClock, request: pytest.FixtureRequest
) -> None:
    throttle = make_throttle()
    fail(throttle, 3)

    clock.advance(seconds=BACKOFF.forget_after + 1)
    if isinstance(throttle, RedisLoginThrottle):
        # Redis forgets by expiry, on its own clock: what matters is that the expiry is set.
        client = request.getfixturevalue("redis_client")
        ttls = [client.ttl(PREFIX + key) for key in KEYS]
        assert all(0 < ttl <= BACKOFF.forget_after for ttl in ttls), ttls
        client.delete(*(PREFIX + key for key in KEYS))
    fail(throttle, 2)

    throttle.check(KEYS)  # 2 failures since: still free


# --- Redis gone ----------------------------------------------------------------------------


def test_the_redis_throttle_lets_logins_through_when_redis_does_not_answer(
    clock: FixedClock,
) -> None:
    throttle = RedisLoginThrottle.from_url(f"redis://127.0.0.1:{free_port()}/0", BACKOFF, clock)

    for _ in range(5):
        throttle.check(KEYS)
        throttle.record_failure(KEYS)
    throttle.reset(KEYS)

"""The Redis lease lock on a real Redis: one holder at a time, renewal, take-over after the
holder's lease runs out or is released, a new generation (fencing token) for every new
holder, and an unreachable Redis reported as such."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from adapters.redis.lease_lock import RedisLeaseLock
from application.errors import DependencyUnavailableError
from application.ports import Lease
from tests.support.redis_server import free_port

TTL = 0.5  # seconds: long enough for a renewal round trip, short enough to wait out


def contenders(redis_url: str, count: int, *, ttl: float = TTL) -> list[RedisLeaseLock]:
    """`count` processes' locks on the same name, each with a client of its own."""
    return [RedisLeaseLock.from_url(redis_url, "scheduler", ttl=ttl) for _ in range(count)]


def test_while_one_holds_the_lease_the_others_are_refused_and_its_renewal_keeps_it(
    redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = contenders(redis_url, 2)

    lease = first.hold()
    assert lease is not None
    assert second.hold() is None
    # Renewed every third of its length for three lengths: never lost, never handed over.
    for _ in range(9):
        time.sleep(TTL / 3)
        assert first.hold() == lease
        assert second.hold() is None


def test_a_released_lease_is_taken_at_once_with_a_newer_generation(
    redis_url: str, redis_client: redis.Redis
) -> None:
    first, second = contenders(redis_url, 2)
    old = first.hold()
    assert old is not None

    first.release()
    new = second.hold()

    assert new is not None
    assert new.generation > old.generation
    assert first.hold() is None


def test_a_dead_holders_lease_expires_and_another_takes_over_with_a_newer_generation(
    redis_url: str, redis_client: redis.Redis
) -> None:
    dead, survivor = contenders(redis_url, 2)
    old = dead.hold()
    assert old is not None
    assert survivor.hold() is None

    time.sleep(TTL * 2)  # the holder stops renewing, as a killed process does
    new = survivor.hold()

    assert new is not None
    assert new.generation > old.generation


def test_a_holder_that_stalled_past_its_lease_learns_it_lost_it_and_cannot_renew(
    redis_url: str, redis_client: redis.Redis
) -> None:
    stalled, other = contenders(redis_url, 2)
    assert stalled.hold() is not None
    time.sleep(TTL * 2)
    taken = other.hold()
    assert taken is not None

    # The late renewal is a compare-and-extend on its own token: refused.
    assert stalled.hold() is None
    assert other.hold() == taken


def test_a_lapsed_lease_nobody_took_is_taken_afresh_with_a_new_generation(
    redis_url: str, redis_client: redis.Redis
) -> None:
    (only,) = contenders(redis_url, 1)
    old = only.hold()
    assert old is not None

    time.sleep(TTL * 2)
    again = only.hold()

    # Whatever this holder did in between may have been overtaken: it starts a new lease.
    assert again is not None
    assert again.generation > old.generation


def test_of_many_contenders_taking_the_lease_at_the_same_instant_exactly_one_holds_it(
    redis_url: str, redis_client: redis.Redis
) -> None:
    locks = contenders(redis_url, 8, ttl=10)
    start = threading.Barrier(len(locks))
    leases: list[Lease | None] = [None] * len(locks)

    def contend(n: int) -> None:
        start.wait()
        leases[n] = locks[n].hold()

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(len(locks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    held = [lease for lease in leases if lease is not None]
    assert len(held) == 1
    assert (
        redis_client.get("taskhub:lease:scheduler:generation") == str(held[0].generation).encode()
    )


def test_locks_of_different_names_do_not_exclude_each_other(
    redis_url: str, redis_client: redis.Redis
) -> None:
    scheduler = RedisLeaseLock.from_url(redis_url, "scheduler", ttl=TTL)
    maintenance = RedisLeaseLock.from_url(redis_url, "maintenance", ttl=TTL)

    assert scheduler.hold() is not None
    assert maintenance.hold() is not None


def test_an_unreachable_redis_is_reported_and_release_never_raises() -> None:
    lock = RedisLeaseLock.from_url(f"redis://127.0.0.1:{free_port()}/0", "scheduler", ttl=TTL)

    with pytest.raises(DependencyUnavailableError):
        lock.hold()
    lock.release()

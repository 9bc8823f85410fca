"""A lease lock in Redis (redis-py's Lock: SET NX PX, renewed by its token), with a
generation counter as fencing token."""

from __future__ import annotations

import logging

import redis
from redis.exceptions import LockError, RedisError
from redis.lock import Lock

from application.errors import DependencyUnavailableError
from application.ports import Lease, LeaseLock

logger = logging.getLogger(__name__)

PREFIX = "taskhub:lease:"
TIMEOUT_SECONDS = 1.0


class RedisLeaseLock(LeaseLock):
    """One key per lock, holding this holder's random token, expiring `ttl` seconds after
    its last renewal: the expiry is Redis's own relative timer, so no host's wall clock (a
    DST change, an NTP step) bears on who holds it. Taking the lock increments a generation
    counter beside it (INCR, never reset), the fencing token of the new lease. Renewal is
    redis-py's compare-and-extend on the token: once another holder took over, a late
    renewal fails and this holder knows it lost the lease."""

    def __init__(self, client: redis.Redis, name: str, *, ttl: float) -> None:
        self._client = client
        self._name = PREFIX + name
        self._ttl = ttl
        self._lock: Lock = client.lock(self._name, timeout=ttl, blocking=False, thread_local=False)
        self._lease: Lease | None = None

    @classmethod
    def from_url(cls, url: str, name: str, *, ttl: float) -> RedisLeaseLock:
        client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        return cls(client, name, ttl=ttl)

    def hold(self) -> Lease | None:
        try:
            if self._lease is not None:
                try:
                    self._lock.reacquire()
                    return self._lease
                except LockError:
                    logger.warning("lost the %s lease to another process", self._name)
                    self._lease = None
            if not self._lock.acquire(blocking=False):
                return None
            generation = int(self._client.incr(self._name + ":generation"))
            self._lease = Lease(generation=generation)
            logger.info("holding the %s lease, generation %d", self._name, generation)
            return self._lease
        except RedisError as exc:
            # Unreachable: act as if the lease were lost; it expires by itself meanwhile.
            self._lease = None
            raise DependencyUnavailableError(
                "the lock service is unavailable", dependency="broker", cause=type(exc).__name__
            ) from exc

    def release(self) -> None:
        if self._lease is None:
            return
        self._lease = None
        try:
            self._lock.release()
        except (LockError, RedisError) as exc:
            logger.info("could not release %s (it expires by itself): %s", self._name, exc)

"""Login throttling in Redis, shared by every API process: one small hash per key, expiring
when its failures are forgotten."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime

import redis

from application.login_backoff import LoginBackoff, refuse_while_waiting
from application.ports import Clock, LoginThrottle

logger = logging.getLogger(__name__)

PREFIX = "taskhub:login-failures:"
# A login waits at most this long for Redis before going on without the throttle.
TIMEOUT_SECONDS = 0.5


class RedisLoginThrottle(LoginThrottle):
    """Fails open: while Redis does not answer, logins are not throttled (and a warning is
    logged), because logging in must not depend on the broker; bcrypt still costs each guess."""

    def __init__(self, client: redis.Redis, backoff: LoginBackoff, clock: Clock) -> None:
        self.client = client
        self.backoff = backoff
        self.clock = clock

    @classmethod
    def from_url(cls, url: str, backoff: LoginBackoff, clock: Clock) -> RedisLoginThrottle:
        client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        return cls(client, backoff, clock)

    def check(self, keys: Sequence[str]) -> None:
        now = self.clock.now()
        try:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                pipe.hmget(PREFIX + key, "count", "last")
            rows = pipe.execute()
        except redis.RedisError as exc:
            logger.warning("login throttle skipped, Redis did not answer: %s", exc)
            return
        waits = [
            self.backoff.wait(int(count), datetime.fromtimestamp(float(last), UTC), now)
            for count, last in rows
            if count is not None and last is not None
        ]
        refuse_while_waiting(max(waits, default=0.0))

    def record_failure(self, keys: Sequence[str]) -> None:
        now = self.clock.now().timestamp()
        forget_after = math.ceil(self.backoff.forget_after)
        pipe = self.client.pipeline(transaction=True)
        for key in keys:
            pipe.hincrby(PREFIX + key, "count", 1)
            pipe.hset(PREFIX + key, "last", str(now))
            pipe.expire(PREFIX + key, forget_after)
        self._run(pipe)

    def reset(self, keys: Sequence[str]) -> None:
        if keys:
            pipe = self.client.pipeline(transaction=False)
            pipe.delete(*(PREFIX + k for k in keys))
            self._run(pipe)

    def _run(self, pipe: redis.client.Pipeline) -> None:
        try:
            pipe.execute()
        except redis.RedisError as exc:
            logger.warning("login throttle not updated, Redis did not answer: %s", exc)

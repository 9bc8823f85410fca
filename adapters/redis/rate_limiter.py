"""Rate limits in Redis: one bucket per task type, shared by every process that releases."""

from __future__ import annotations

import redis
from redis.exceptions import RedisError

from application.errors import DependencyUnavailableError
from application.ports import RateLimiter
from domain.flow import RateLimit

PREFIX = "taskhub:rate:"
TIMEOUT_SECONDS = 1.0

# domain/flow.py:RateLimit.reserve, atomically on the server's clock (TIME), so the hosts'
# clocks do not matter. KEYS[1]: the bucket (when its next permit is free, in seconds);
# ARGV: interval, count, horizon. Returns the delays as strings (Lua numbers to Redis
# integers would truncate them). The key expires once idle, as a bucket in the past is free.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local horizon = tonumber(ARGV[3])
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at < now then at = now end
local delays = {}
while #delays < count and at - now <= horizon do
  delays[#delays + 1] = string.format('%.6f', at - now)
  at = at + interval
end
redis.call('SET', KEYS[1], string.format('%.6f', at), 'PX',
           math.ceil((at - now + 1) * 1000))
return delays
"""


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: redis.Redis) -> None:
        self._client = client
        self._reserve = client.register_script(_RESERVE)

    @classmethod
    def from_url(cls, url: str) -> RedisRateLimiter:
        return cls(
            redis.Redis.from_url(
                url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
            )
        )

    def reserve(self, key: str, limit: RateLimit, count: int, *, horizon: float) -> list[float]:
        if count <= 0:
            return []
        try:
            delays = self._reserve(keys=[PREFIX + key], args=[limit.interval, count, horizon])
        except RedisError as exc:
            raise DependencyUnavailableError(
                f"rate limits cannot be read: {exc}", dependency="broker"
            ) from exc
        return [float(delay) for delay in delays]

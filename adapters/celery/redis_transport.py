"""kombu's Redis and Sentinel transports, with channels that fail like a lost connection,
not with AttributeError, once their transport was dropped (a Redis restart otherwise
stopped the worker)."""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import TRANSPORT_ALIASES, _transport_cache
from kombu.transport import redis as kombu_redis


class _ReportsDroppedTransport:
    """On a lost connection Celery's consumer drops the transport (`Connection.collect`),
    then closes the connection, closing the channels again. `collect` stops at the first
    channel whose close fails (a fanout queue it cannot delete without the server), so a
    channel can outlive its transport; its second close re-acquires a client to requeue its
    unacked messages, reads the URL from a transport that no longer has one and raises
    AttributeError, which Celery takes for an unrecoverable error: the worker shut down
    (about one Redis restart in four under load in the broker outage fault tests).

    Raised as a connection error instead, it is ignored like the other close errors and
    the consumer reconnects; the unacked messages stay in Redis' unacked index until the
    visibility timeout brings them back, as they would with the server down anyway.
    """

    connection: Any

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection of this channel was closed")
        params: dict[str, Any] = super()._connparams(asynchronous)  # type: ignore[misc]
        return params


class Channel(_ReportsDroppedTransport, kombu_redis.Channel):
    pass


class SentinelChannel(_ReportsDroppedTransport, kombu_redis.SentinelChannel):
    pass


class Transport(kombu_redis.Transport):
    Channel = Channel


class SentinelTransport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel


_SCHEMES = {
    "redis": f"{__name__}:Transport",
    "rediss": f"{__name__}:Transport",
    "sentinel": f"{__name__}:SentinelTransport",
}


def use_these_redis_transports() -> None:
    """Make kombu resolve the Redis URL schemes to the transports above, in this process.

    By scheme rather than by Celery's `broker_transport` setting: that one names the class
    in every URI kombu prints (the worker banner, its log lines), loses `rediss://`'s TLS
    default, and is dropped when kombu fails over to an alternate URL.
    """
    TRANSPORT_ALIASES.update(_SCHEMES)
    for scheme in _SCHEMES:  # a scheme resolved before this call is cached by kombu
        _transport_cache.pop(scheme, None)

"""kombu connections that give up instead of retrying forever, for `Celery(amqp=...)`."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery.app.amqp import AMQP
from kombu.connection import Connection, ConnectionPool, PooledConnection


class FailFastConnection(Connection):
    """`ensure()` with no retry limit fails on the first error instead of looping forever.

    kombu's Mailbox publishes every control command (`app.control.revoke`) with
    `retry=True` and no policy, i.e. `ensure(max_retries=None)`: once a pooled connection
    has been used, a broker that goes away makes the call reconnect forever (measured: an
    API request hung until killed). Callers passing a limit keep it. A Redis that restarted
    is still reached: redis-py reconnects a stale pooled socket on its own.
    """

    def ensure(
        self,
        obj: Any,
        fun: Callable[..., Any],
        errback: Callable[..., Any] | None = None,
        max_retries: int | None = None,
        interval_start: float = 1,
        interval_step: float = 1,
        interval_max: float = 1,
        on_revive: Callable[..., Any] | None = None,
        retry_errors: tuple[type[BaseException], ...] | None = None,
    ) -> Callable[..., Any]:
        limit = 0 if max_retries is None else max_retries
        ensured: Callable[..., Any] = super().ensure(  # type: ignore[no-untyped-call]
            obj,
            fun,
            errback,
            limit,
            interval_start,
            interval_step,
            interval_max,
            on_revive,
            retry_errors,
        )
        return ensured

    def Pool(self, limit: int | None = None, **kwargs: Any) -> ConnectionPool:  # noqa: N802
        return _FailFastConnectionPool(self, limit=limit, **kwargs)  # type: ignore[no-untyped-call]


class _FailFastPooledConnection(PooledConnection, FailFastConnection):
    pass


class _FailFastConnectionPool(ConnectionPool):
    # kombu's pool builds plain PooledConnections whatever the class of the connection it
    # was made from, and Celery publishes through pooled connections only.
    def new(self) -> _FailFastPooledConnection:
        return _FailFastPooledConnection(self, **dict(self.connection._info(resolve=False)))  # type: ignore[no-untyped-call]

    def replace(self, resource: Any) -> None:
        """kombu replaces a pooled connection a publish failed on, closing it politely: on
        RabbitMQ that is a channel close and a connection close, each waiting (up to the
        read timeout) for the broker's answer, which a hung broker never sends (measured:
        6 s for a 2 s publish timeout). Torn down without asking instead; the pool builds a
        fresh connection on the next acquire, so the failed one is never used again."""
        _tear_down(resource)
        super().replace(resource)  # type: ignore[no-untyped-call]


@contextmanager
def torn_down_on_error(connection: Connection) -> Iterator[Connection]:
    """Use `connection`, then close it; after an error, tear it down without the close
    handshake that a hung broker would make wait (see `_FailFastConnectionPool.replace`)."""
    try:
        yield connection
    except BaseException:
        _tear_down(connection)
        raise
    finally:
        connection.release()


def _tear_down(connection: Any) -> None:
    # `collect` drops the socket and the channels without a word to the broker; whatever it
    # raises, the connection is unusable and the caller's error is the one to report.
    with contextlib.suppress(Exception):
        connection.collect()


class FailFastAMQP(AMQP):  # type: ignore[misc]  # celery is untyped
    """Celery's AMQP helper, building FailFastConnections (and pools of them)."""

    Connection = FailFastConnection

"""Which exceptions mean "the broker cannot be reached", and their translation at the port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import Celery
from kombu.exceptions import BatchPublishError, LimitExceeded, OperationalError

from application.errors import DependencyUnavailableError

BrokerErrors = tuple[type[BaseException], ...]


def broker_errors(app: Celery) -> BrokerErrors:
    """The broker's connection and channel errors, plus kombu's wrappers of them."""
    # Not connected: building a Connection only loads the transport class.
    connection = app.connection_for_write()
    try:
        found = [
            *connection.connection_errors,
            *connection.channel_errors,
            *connection.recoverable_connection_errors,
            *connection.recoverable_channel_errors,
        ]
    finally:
        connection.release()
    # kombu counts KeyError among Redis's connection errors; a queue missing from the
    # topology is a bug to surface, not an outage to hide.
    kept = [error for error in found if error is not KeyError]
    # BatchPublishError: a pipelined batch of publishes failed (see CeleryTaskDispatcher).
    known = [OperationalError, LimitExceeded, BatchPublishError, OSError]
    return tuple(dict.fromkeys([*known, *kept]))


@contextmanager
def broker_unavailable_on(errors: BrokerErrors, action: str) -> Iterator[None]:
    try:
        yield
    except errors as exc:
        # The detail reaches readiness reports and logs: the error's type, never its text,
        # which may carry the broker's address.
        raise DependencyUnavailableError(
            f"message broker unavailable ({action} failed: {type(exc).__name__})",
            dependency="broker",
        ) from exc

"""The database server's clock, for every process of a deployment: heartbeats stamped by a
worker and judged by Beat's reaper, due times written by the API and swept by Beat."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from application.errors import DependencyUnavailableError
from application.ports import Clock

logger = logging.getLogger(__name__)

RESYNC_SECONDS = 300.0
RETRY_SECONDS = 5.0


class DatabaseClock(Clock):
    """The server's time, read once and carried forward on this host's monotonic clock.

    Hosts' wall clocks differ (a worker 30 s behind stamps heartbeats the reaper finds 30 s
    old) and jump (NTP steps, a VM resumed). The database is the one thing every process
    shares, so its clock is the one they all use. Reading it per call would add a round
    trip to every claim and heartbeat; instead the server's time is read every
    `resync_every` seconds (halfway through the query's round trip, so the error is at most
    half of it) and the monotonic clock, which never jumps, measures the time since.
    Until a first read succeeds, `fallback` answers (and a read is tried again every
    `retry_every` seconds); a failed resync keeps the last reading.
    """

    def __init__(
        self,
        read_server_time: Callable[[], tuple[datetime, float]],
        *,
        fallback: Clock,
        resync_every: float = RESYNC_SECONDS,
        retry_every: float = RETRY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read_server_time = read_server_time
        self._fallback = fallback
        self._resync_every = resync_every
        self._retry_every = retry_every
        self._monotonic = monotonic
        self._anchor: tuple[datetime, float] | None = None
        self._next_read = float("-inf")
        self._reading = threading.Lock()

    def now(self) -> datetime:
        if self._monotonic() >= self._next_read:
            self._read()
        anchor = self._anchor
        if anchor is None:
            return self._fallback.now()
        server_time, read_at = anchor
        return server_time + timedelta(seconds=self._monotonic() - read_at)

    def _read(self) -> None:
        if not self._reading.acquire(blocking=False):
            return  # another thread is reading it; the last reading serves meanwhile
        try:
            now = self._monotonic()
            if now < self._next_read:
                return
            try:
                server_time, read_at = self._read_server_time()
            except (DependencyUnavailableError, SQLAlchemyError) as exc:
                self._next_read = now + self._retry_every
                logger.warning(
                    "could not read the database's clock (%s); %s",
                    exc,
                    "keeping the last reading" if self._anchor else "using this host's clock",
                )
                return
            self._anchor = (server_time.astimezone(UTC), read_at)
            self._next_read = self._monotonic() + self._resync_every
        finally:
            self._reading.release()


class PostgresServerTime:
    """`clock_timestamp()`: the server's time now, not at its transaction's start."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def __call__(self) -> tuple[datetime, float]:
        """The server's time, and the monotonic instant it stands for: the middle of the
        query's round trip, the connection already open (opening one can take longer than
        the whole error this clock allows)."""
        with self._engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            before = time.monotonic()
            value = connection.execute(text("SELECT clock_timestamp()")).scalar_one()
            after = time.monotonic()
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"clock_timestamp() returned {value!r}")
        return value, (before + after) / 2

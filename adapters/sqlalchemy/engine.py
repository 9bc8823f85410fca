"""Engines, connection factories and the readiness probe for SQLite and PostgreSQL
(psycopg 3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import NullPool, StaticPool

from adapters.sqlalchemy.errors import DATABASE, database_unavailable, install_error_translation
from adapters.sqlalchemy.sqlite_writers import take_turns_writing
from adapters.sqlalchemy.tables import ReadinessProbeRow
from application.ports import DependencyProbe

CONNECT_TIMEOUT_SECONDS = 3
IDLE_BEFORE_PING_SECONDS = 1.0
SQLITE_BUSY_TIMEOUT_MS = 5000
# SQLite's default page cache is 2 MB per connection, and the API's pool opens up to 15
# of them under load; pages once cached stay allocated in the process. A large cache buys
# little here: in WAL mode a connection drops its whole cache when it begins a transaction
# after another connection committed, which on a running system (a worker writing, the
# API's other threads) is nearly every time, so what a cache serves is one transaction's
# own pages. 128 KiB (32 pages) holds those; SQLite's memory in the API after the submit
# runs went from 6.5 MB (512 KiB) to 3.7-4.4 MB. A page not cached is read from the
# operating system's cache, which holds the whole file anyway.
SQLITE_PAGE_CACHE_KIB = 128

# Per connection: enforce foreign keys (off by default in SQLite); WAL so readers never
# block the writer; wait for a busy writer instead of failing with "database is locked".
_SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    f"PRAGMA cache_size = -{SQLITE_PAGE_CACHE_KIB}",  # negative: KiB, not pages
)


def create_database_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for the application, its driver errors translated to application errors."""
    parsed = parse_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, echo=echo, hide_parameters=True, **_sqlite_options(parsed))
        event.listen(engine, "connect", _configure_sqlite)
        if parsed.database not in (None, "", ":memory:"):
            take_turns_writing(engine, parsed.database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    else:
        engine = create_engine(
            parsed,
            echo=echo,
            # A failed statement's message (logged, maybe shown) must not carry users' data.
            hide_parameters=True,
            # Fail fast: an unreachable server must not hang a request or a readiness check.
            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        )
        _ping_connections_after_idling(engine)
    install_error_translation(engine)
    return engine


def _ping_connections_after_idling(engine: Engine) -> None:
    """SQLAlchemy's `pool_pre_ping`, but only for a connection that sat in the pool for
    `IDLE_BEFORE_PING_SECONDS`: a server restart or a dropped connection is still noticed
    before a transaction starts on it, while a busy process, whose connections come back
    within milliseconds, does not pay a round trip per transaction (on PostgreSQL, one of
    five in a task's claim or outcome)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def remember_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()  # a new connection needs no ping

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get("checked_in_at")
        if checked_in is not None and time.monotonic() - checked_in < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the driver's own error: the connection is unusable
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled connection failed its ping")
        # The pool tries another connection (three times) after a DisconnectionError.


def create_migration_engine(url: str) -> Engine:
    """An engine for schema changes: no pool, and SQLite's foreign keys left off, because a
    batch migration rebuilds tables and dropping the old one would cascade deletes."""
    parsed = parse_database_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return create_engine(parsed, poolclass=NullPool, connect_args=connect_args)


def create_connection_factory(
    engine: Engine, *, single_reads: bool = False
) -> Callable[[], Connection]:
    """What a unit of work checks its connection out with. `single_reads`: for units of
    work that read one row and write nothing (a token's user, whether a run is current).
    On PostgreSQL they run without a transaction: the read alone is one round trip, where
    BEGIN, the read and COMMIT were three. (SQLite opens no transaction for a read anyway.)"""
    if single_reads and engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine.connect


def parse_database_url(url: str) -> URL:
    """The URL with plain 'postgresql://' meaning psycopg 3, the driver taskhub ships."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


_PROBE_WRITE = (
    update(ReadinessProbeRow).where(ReadinessProbeRow.id == 1).values(checked_at=bindparam("now"))
)


class SqlAlchemyDatabaseProbe(DependencyProbe):
    name = DATABASE

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def check(self) -> None:
        """A committed write, not only a query: a database that answers but cannot write
        (disk full, read-only, locked for longer than the busy timeout) is not ready."""
        try:
            with self._engine.begin() as connection:
                connection.execute(_PROBE_WRITE, {"now": datetime.now(UTC)})
        except SQLAlchemyError as exc:
            raise database_unavailable(exc.orig if isinstance(exc, DBAPIError) else exc) from exc


# The sqlite3 driver's default ("legacy") transaction control is kept on purpose: it opens a
# transaction at the first write, so a unit of work that reads then writes never holds a stale
# read snapshot, which SQLite refuses to upgrade with "database is locked" however long
# busy_timeout is. The price is unreliable SAVEPOINTs, so repositories check uniqueness with
# a query before inserting rather than trying the insert in a savepoint.
def _sqlite_options(url: URL) -> dict[str, Any]:
    # The unit of work of a request may run on any thread of the server's pool.
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if url.database in (None, "", ":memory:"):
        # One shared connection, or each checkout would see its own empty database.
        options["poolclass"] = StaticPool
    return options


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()

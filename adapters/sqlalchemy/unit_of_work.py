"""One database transaction per `with` block, on a pooled connection held exactly as long."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self, cast

from sqlalchemy import Connection, Table, false, update
from sqlalchemy.exc import SQLAlchemyError

from adapters.sqlalchemy.errors import database_unavailable
from adapters.sqlalchemy.repositories import (
    SqlAlchemyAttemptRepository,
    SqlAlchemyEventRepository,
    SqlAlchemyIdempotencyKeyRepository,
    SqlAlchemyModelRepository,
    SqlAlchemyScheduleFireRepository,
    SqlAlchemyScheduleRepository,
    SqlAlchemyTaskLogRepository,
    SqlAlchemyTaskRepository,
    SqlAlchemyUserRepository,
    SqlAlchemyWebhookRepository,
    SqlAlchemyWorkflowRepository,
)
from adapters.sqlalchemy.sqlite_writers import give_up_turn
from adapters.sqlalchemy.tables import ReadinessProbeRow
from application.ports import EventChannel, UnitOfWork

_PROBE = cast(Table, ReadinessProbeRow.__table__)
_TAKE_SQLITE_WRITE_LOCK = update(_PROBE).where(false()).values(id=_PROBE.c.id)


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Rolls back on exit unless committed. One object serves one thread: enter it again,
    sequentially, for the next transaction (each checks a connection out of the pool). The
    task events a transaction recorded go to `event_channel` once it has committed, never
    before.

    The repositories execute Core statements on a `Connection`, not through an ORM
    `Session`: nothing here maps objects, and the session's bookkeeping around every
    statement and commit was a tenth of a no-op run (profiled, docs/benchmarks.md)."""

    def __init__(
        self, connect: Callable[[], Connection], event_channel: EventChannel | None = None
    ) -> None:
        self._connect_to_database = connect
        self._event_channel = event_channel

    def __enter__(self) -> Self:
        self._committed = False
        self._connection = self._connect()
        self.tasks = SqlAlchemyTaskRepository(self._connection)
        self.users = SqlAlchemyUserRepository(self._connection)
        self.models = SqlAlchemyModelRepository(self._connection)
        self.idempotency_keys = SqlAlchemyIdempotencyKeyRepository(self._connection)
        self._events = SqlAlchemyEventRepository(self._connection)
        self.events = self._events
        self.schedules = SqlAlchemyScheduleRepository(self._connection)
        self.schedule_fires = SqlAlchemyScheduleFireRepository(self._connection)
        self.workflows = SqlAlchemyWorkflowRepository(self._connection)
        self.attempts = SqlAlchemyAttemptRepository(self._connection)
        self.task_logs = SqlAlchemyTaskLogRepository(self._connection)
        self.webhooks = SqlAlchemyWebhookRepository(self._connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self._connection.rollback()
        finally:
            self._connection.close()

    def commit(self) -> None:
        self._connection.commit()
        give_up_turn(self._connection.info)  # SQLite: the next writer may go (sqlite_writers)
        self._committed = True
        staged, self._events.staged = self._events.staged, []
        if staged and self._event_channel is not None:
            self._event_channel.publish(staged)
        self._locks_released()

    def rollback(self) -> None:
        self._connection.rollback()
        give_up_turn(self._connection.info)
        self._events.staged = []
        self._locks_released()

    def lock_for_writing(self) -> None:
        if self._connection.dialect.name == "sqlite":
            # A write statement takes SQLite's write lock even when it matches no row.
            self._connection.execute(_TAKE_SQLITE_WRITE_LOCK)

    def _locks_released(self) -> None:
        # The workflow repository remembers what this transaction holds; a new one holds none.
        self.workflows = SqlAlchemyWorkflowRepository(self._connection)

    def _connect(self) -> Connection:
        # Check a connection out now, so an unreachable database fails at the `with` line.
        # Driver errors arrive translated by the engine; a pool timeout is not a driver error.
        try:
            return self._connect_to_database()
        except SQLAlchemyError as exc:
            raise database_unavailable() from exc

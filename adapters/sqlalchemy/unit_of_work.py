"""One database transaction per `with` block, its session living exactly as long."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

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
from application.ports import EventChannel, UnitOfWork


class SqlAlchemyUnitOfWork(UnitOfWork):
    """Rolls back on exit unless committed. One object serves one thread: enter it again,
    sequentially, for the next transaction (each gets a fresh session). The task events a
    transaction recorded go to `event_channel` once it has committed, never before."""

    def __init__(
        self, session_factory: sessionmaker[Session], event_channel: EventChannel | None = None
    ) -> None:
        self._session_factory = session_factory
        self._event_channel = event_channel

    def __enter__(self) -> Self:
        self._session = self._session_factory()
        self._committed = False
        self._connect()
        self.tasks = SqlAlchemyTaskRepository(self._session)
        self.users = SqlAlchemyUserRepository(self._session)
        self.models = SqlAlchemyModelRepository(self._session)
        self.idempotency_keys = SqlAlchemyIdempotencyKeyRepository(self._session)
        self._events = SqlAlchemyEventRepository(self._session)
        self.events = self._events
        self.schedules = SqlAlchemyScheduleRepository(self._session)
        self.schedule_fires = SqlAlchemyScheduleFireRepository(self._session)
        self.workflows = SqlAlchemyWorkflowRepository(self._session)
        self.attempts = SqlAlchemyAttemptRepository(self._session)
        self.task_logs = SqlAlchemyTaskLogRepository(self._session)
        self.webhooks = SqlAlchemyWebhookRepository(self._session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                self._session.rollback()
        finally:
            self._session.close()

    def commit(self) -> None:
        self._session.commit()
        self._committed = True
        staged, self._events.staged = self._events.staged, []
        if staged and self._event_channel is not None:
            self._event_channel.publish(staged)
        self._locks_released()

    def rollback(self) -> None:
        self._session.rollback()
        self._events.staged = []
        self._locks_released()

    def _locks_released(self) -> None:
        # The workflow repository remembers what this transaction holds; a new one holds none.
        self.workflows = SqlAlchemyWorkflowRepository(self._session)

    def _connect(self) -> None:
        # Check a connection out now, so an unreachable database fails at the `with` line.
        # Driver errors arrive translated by the engine; a pool timeout is not a driver error.
        try:
            self._session.connection()
        except SQLAlchemyError as exc:
            self._session.close()
            raise database_unavailable() from exc
        except BaseException:
            self._session.close()
            raise

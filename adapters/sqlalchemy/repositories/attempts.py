"""The SQL record of a task's attempts, through Core: one row per attempt number, written
once however often a run's end is reported."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from adapters.sqlalchemy.driver_statements import DriverStatement
from adapters.sqlalchemy.mapping import attempt_from_row, attempt_values
from adapters.sqlalchemy.tables import TaskAttemptRow
from application.ports import AttemptRepository
from domain.attempt import Attempt
from domain.task import TaskId

_ATTEMPTS = cast(Table, TaskAttemptRow.__table__)
_COLUMNS = _ATTEMPTS.c
# Written at the end of every run: on the driver's cursor (driver_statements).
_ADD_ONCE_SQLITE = DriverStatement(sqlite.insert(_ATTEMPTS).on_conflict_do_nothing())
_ADD_ONCE_POSTGRESQL = DriverStatement(postgresql.insert(_ATTEMPTS).on_conflict_do_nothing())


class SqlAlchemyAttemptRepository(AttemptRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, attempt: Attempt) -> None:
        # One statement: the first record of a number stays, a later one is a no-op.
        dialect = self._connection.dialect.name
        statement = _ADD_ONCE_POSTGRESQL if dialect == "postgresql" else _ADD_ONCE_SQLITE
        statement.execute(self._connection, attempt_values(attempt))

    def list(self, task_id: TaskId) -> list[Attempt]:
        statement = select(_ATTEMPTS).where(_COLUMNS.task_id == task_id).order_by(_COLUMNS.number)
        return [attempt_from_row(row) for row in self._connection.execute(statement)]

    def ended_since(self, since: datetime, *, limit: int) -> builtins.list[Attempt]:
        statement = (
            select(_ATTEMPTS)
            .where(_COLUMNS.ended_at > since)
            .order_by(_COLUMNS.ended_at.desc())
            .limit(limit)
        )
        return [attempt_from_row(row) for row in self._connection.execute(statement)]

"""The SQL record of a task's attempts, through Core: one row per attempt number, written
once however often a run's end is reported."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from adapters.sqlalchemy.mapping import attempt_from_row, attempt_values
from adapters.sqlalchemy.tables import TaskAttemptRow
from application.ports import AttemptRepository
from domain.attempt import Attempt
from domain.task import TaskId

_ATTEMPTS = cast(Table, TaskAttemptRow.__table__)
_COLUMNS = _ATTEMPTS.c


class SqlAlchemyAttemptRepository(AttemptRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, attempt: Attempt) -> None:
        recorded = self._session.execute(
            select(_COLUMNS.number).where(
                _COLUMNS.task_id == attempt.task_id, _COLUMNS.number == attempt.number
            )
        ).first()
        if recorded is None:
            self._session.execute(insert(_ATTEMPTS), attempt_values(attempt))

    def list(self, task_id: TaskId) -> list[Attempt]:
        statement = select(_ATTEMPTS).where(_COLUMNS.task_id == task_id).order_by(_COLUMNS.number)
        return [attempt_from_row(row) for row in self._session.execute(statement)]

    def ended_since(self, since: datetime, *, limit: int) -> builtins.list[Attempt]:
        statement = (
            select(_ATTEMPTS)
            .where(_COLUMNS.ended_at > since)
            .order_by(_COLUMNS.ended_at.desc())
            .limit(limit)
        )
        return [attempt_from_row(row) for row in self._session.execute(statement)]

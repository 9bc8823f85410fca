"""The SQL log of a task's runs, through Core: lines numbered per task, only the newest
`keep` kept."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import cast

from sqlalchemy import Connection, Table, delete, func, insert, select

from adapters.sqlalchemy.mapping import log_line_from_row
from adapters.sqlalchemy.tables import TaskLogRow
from application.ports import TaskLogRepository
from domain.attempt import TaskLogLine
from domain.task import TaskId

_LOGS = cast(Table, TaskLogRow.__table__)
_COLUMNS = _LOGS.c


class SqlAlchemyTaskLogRepository(TaskLogRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, lines: Sequence[TaskLogLine], *, keep: int) -> list[TaskLogLine]:
        if not lines:
            return []
        task_id = lines[0].task_id
        last = self._connection.execute(
            select(func.max(_COLUMNS.seq)).where(_COLUMNS.task_id == task_id)
        ).scalar_one_or_none()
        first = (last or 0) + 1
        rows = [
            {
                "task_id": line.task_id,
                "seq": first + offset,
                "attempt": line.attempt,
                "level": line.level.value,
                "message": line.message,
                "logged_at": line.logged_at,
            }
            for offset, line in enumerate(lines)
        ]
        self._connection.execute(insert(_LOGS), rows)
        newest = first + len(rows) - 1
        if newest > keep:
            self._connection.execute(
                delete(_LOGS).where(_COLUMNS.task_id == task_id, _COLUMNS.seq <= newest - keep)
            )
        return [replace(line, seq=first + offset) for offset, line in enumerate(lines)]

    def page(self, task_id: TaskId, *, after: int | None, limit: int) -> list[TaskLogLine]:
        statement = select(_LOGS).where(_COLUMNS.task_id == task_id)
        if after is not None:
            statement = statement.where(_COLUMNS.seq > after)
        statement = statement.order_by(_COLUMNS.seq).limit(limit)
        return [log_line_from_row(row) for row in self._connection.execute(statement)]

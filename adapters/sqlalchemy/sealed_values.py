"""The tasks whose arguments or result hold sealed values, for `taskhub keys rotate`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import String, Table, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Engine

from adapters.sqlalchemy.tables import TaskRow
from application.ports import SealedValues, SealedValueStore
from application.secret_values import SEALED, holds_sealed
from domain.task import TaskId

_TASKS = cast(Table, TaskRow.__table__)
_COLUMNS = _TASKS.c


class SqlAlchemySealedValueStore(SealedValueStore):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def sealed_after(self, after: TaskId | None, limit: int) -> list[SealedValues]:
        # A text match finds the candidates on either database; each is checked exactly.
        marked = sql_cast(_COLUMNS.kwargs, String).contains(SEALED) | sql_cast(
            _COLUMNS.result, String
        ).contains(SEALED)
        query = select(_COLUMNS.id, _COLUMNS.kwargs, _COLUMNS.result).where(marked)
        if after is not None:
            query = query.where(_COLUMNS.id > after)
        query = query.order_by(_COLUMNS.id).limit(limit)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return [SealedValues(TaskId(row.id), row.kwargs, row.result) for row in rows]

    def replace(self, resealed: Sequence[SealedValues]) -> None:
        with self._engine.begin() as connection:
            for values in resealed:
                changes: dict[str, object] = {}
                if holds_sealed(values.kwargs):
                    changes["kwargs"] = values.kwargs
                if holds_sealed(values.result):
                    changes["result"] = values.result
                if changes:
                    connection.execute(
                        update(_TASKS).where(_COLUMNS.id == values.task_id).values(**changes)
                    )

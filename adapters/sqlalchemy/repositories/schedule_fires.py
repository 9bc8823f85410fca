"""The SQL ledger of schedule fires, through Core: one row per fire time, unique, so a
fire is recorded once however many schedulers try."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, insert, select

from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.mapping import fire_from_row, fire_values
from adapters.sqlalchemy.tables import ScheduleFireRow
from application.ports import ScheduleFireRepository
from domain.schedule import Fire, ScheduleId

_FIRES = cast(Table, ScheduleFireRow.__table__)
_COLUMNS = _FIRES.c


class SqlAlchemyScheduleFireRepository(ScheduleFireRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add_many(self, fires: Sequence[Fire]) -> None:
        if not fires:
            return
        with unique_violations_as_already_exists("schedule fire"):
            self._connection.execute(insert(_FIRES), [fire_values(f) for f in fires])

    def find(self, schedule_id: ScheduleId, *, before: datetime | None, limit: int) -> list[Fire]:
        statement = select(_FIRES).where(_COLUMNS.schedule_id == schedule_id)
        if before is not None:
            statement = statement.where(_COLUMNS.fire_time < before)
        statement = statement.order_by(_COLUMNS.fire_time.desc()).limit(limit)
        return [fire_from_row(row) for row in self._connection.execute(statement)]

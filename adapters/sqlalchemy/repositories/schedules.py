"""The SQL schedule repository, through Core on the schedules table: versioned and fenced
writes, so the API's edits and the scheduler's fires never overwrite each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, delete, false, func, insert, select, update

from adapters.sqlalchemy.compare_and_set import rows_written
from adapters.sqlalchemy.keyset import newest_first
from adapters.sqlalchemy.mapping import schedule_from_row, schedule_values
from adapters.sqlalchemy.tables import ScheduleFireRow, ScheduleRow
from application.errors import FencedOffError
from application.ports import ScheduleQuery, ScheduleRepository
from domain.errors import ConcurrencyConflictError, NotFoundError
from domain.schedule import Schedule, ScheduleId
from domain.user import UserId

_SCHEDULES = cast(Table, ScheduleRow.__table__)
_COLUMNS = _SCHEDULES.c
_FIRES = cast(Table, ScheduleFireRow.__table__)


class SqlAlchemyScheduleRepository(ScheduleRepository):
    """Every write bumps `version` and is guarded by the version read, so the API's edits
    and the scheduler's fires never overwrite each other; and by `fence`, so a scheduler
    with an older lease than the row's last writer cannot write at all."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._versions: dict[ScheduleId, int] = {}

    def add(self, schedule: Schedule) -> None:
        self._connection.execute(insert(_SCHEDULES), {**schedule_values(schedule), "version": 0})
        self._versions[schedule.id] = 0

    def get(self, schedule_id: ScheduleId) -> Schedule:
        row = self._connection.execute(select(_SCHEDULES).where(_COLUMNS.id == schedule_id)).first()
        if row is None:
            raise NotFoundError(f"schedule {schedule_id} not found", schedule_id=str(schedule_id))
        return self._remember(row)

    def update(self, schedule: Schedule) -> None:
        version = self._versions.get(schedule.id)
        statement = (
            update(_SCHEDULES)
            .where(
                _COLUMNS.id == schedule.id,
                _COLUMNS.version == version,
                _COLUMNS.fence <= schedule.fence,
            )
            .values({**schedule_values(schedule), "version": (version or 0) + 1})
        )
        if version is not None and rows_written(self._connection, statement):
            self._versions[schedule.id] = version + 1
            return
        stored = self._connection.execute(
            select(_COLUMNS.fence).where(_COLUMNS.id == schedule.id)
        ).scalar_one_or_none()
        if stored is None:
            raise NotFoundError(f"schedule {schedule.id} not found", schedule_id=str(schedule.id))
        if stored > schedule.fence:
            raise FencedOffError(
                f"schedule {schedule.id} was written under a newer lease ({stored})",
                schedule_id=str(schedule.id),
            )
        raise ConcurrencyConflictError(
            f"schedule {schedule.id} was changed meanwhile; try again",
            schedule_id=str(schedule.id),
        )

    def delete(self, schedule: Schedule) -> None:
        self._connection.execute(delete(_SCHEDULES).where(_COLUMNS.id == schedule.id))
        # SQLite enforces no foreign keys unless asked: remove the ledger explicitly.
        self._connection.execute(delete(_FIRES).where(_FIRES.c.schedule_id == schedule.id))
        self._versions.pop(schedule.id, None)

    def find(self, query: ScheduleQuery) -> list[Schedule]:
        statement = select(_SCHEDULES)
        if query.owner_id is not None:
            statement = statement.where(_COLUMNS.user_id == query.owner_id)
        statement = newest_first(
            statement,
            created_at=_COLUMNS.created_at,
            id_=_COLUMNS.id,
            after=query.after,
            limit=query.limit,
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def count_of_owner(self, owner_id: UserId) -> int:
        statement = select(func.count()).where(_COLUMNS.user_id == owner_id)
        return self._connection.scalar(statement) or 0

    def list_due(self, *, now: datetime, limit: int) -> list[Schedule]:
        statement = (
            select(_SCHEDULES)
            .where(_COLUMNS.paused == false(), _COLUMNS.next_fire_at <= now)
            .order_by(_COLUMNS.next_fire_at, _COLUMNS.id)
            .limit(limit)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def raise_fence(self, *, at_least: int) -> int:
        highest = self._connection.scalar(select(func.max(_COLUMNS.fence))) or 0
        fence = max(at_least, highest + 1)
        # The version stays: the fence guard of every write already refuses a writer that
        # read the schedule under an older fence.
        self._connection.execute(
            update(_SCHEDULES).where(_COLUMNS.fence < fence).values(fence=fence)
        )
        return fence

    def _remember(self, row: Row[Any]) -> Schedule:
        schedule = schedule_from_row(row)
        self._versions[schedule.id] = row.version
        return schedule

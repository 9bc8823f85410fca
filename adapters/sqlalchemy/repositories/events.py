"""The SQL repository of task events, numbered in one sequence per user."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, update

from adapters.sqlalchemy.driver_statements import DriverStatement
from adapters.sqlalchemy.tables import TaskEventRow, UserRow
from application.ports import EventRepository
from domain.event import EventKind, TaskEvent
from domain.task import TaskId
from domain.user import UserId

_EVENTS = cast(Table, TaskEventRow.__table__)
_USERS = cast(Table, UserRow.__table__)
# Built once, and run on the driver's cursor (driver_statements): every run records two
# events, and building or executing a statement through the engine cost more than SQLite's
# running it.
_BUMP_SEQUENCE = DriverStatement(
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id", type_=_USERS.c.id.type))
    .values(event_sequence=_USERS.c.event_sequence + bindparam("count"))
    .returning(_USERS.c.event_sequence, _USERS.c.webhooks)
)
_ADD_EVENT = insert(_EVENTS)
_ADD_ONE_EVENT = DriverStatement(_ADD_EVENT)
# PostgreSQL: the bump and the INSERT in one statement (data-modifying CTEs), one round trip
# instead of two for every event, as each run's claim and outcome write one.
_BUMPED = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id", type_=_USERS.c.id.type))
    .values(event_sequence=_USERS.c.event_sequence + 1)
    .returning(_USERS.c.event_sequence, _USERS.c.webhooks)
    .cte("bumped")
)
_STORED = (
    insert(_EVENTS)
    .from_select(
        ["user_id", "sequence", "task_id", "kind", "data", "occurred_at"],
        select(
            bindparam("user_id", type_=_EVENTS.c.user_id.type),
            _BUMPED.c.event_sequence,
            bindparam("task_id", type_=_EVENTS.c.task_id.type),
            bindparam("kind", type_=_EVENTS.c.kind.type),
            bindparam("data", type_=_EVENTS.c.data.type),
            bindparam("occurred_at", type_=_EVENTS.c.occurred_at.type),
        ),
    )
    .cte("stored")
)
_RECORD_EVENT = DriverStatement(
    select(_BUMPED.c.event_sequence, _BUMPED.c.webhooks).add_cte(_STORED)
)


class SqlAlchemyEventRepository(EventRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.staged: list[TaskEvent] = []
        # users.webhooks as read with the user's latest number in this transaction
        self._webhooks: dict[UserId, bool] = {}

    def next_sequence(self, user_id: UserId, count: int = 1) -> int:
        (bumped,) = _BUMP_SEQUENCE.execute(self._connection, {"user_id": user_id, "count": count})
        last, self._webhooks[user_id] = bumped
        return int(last) - count + 1

    def wants_webhooks(self, user_id: UserId) -> bool:
        if user_id not in self._webhooks:
            statement = select(_USERS.c.webhooks).where(_USERS.c.id == user_id)
            self._webhooks[user_id] = bool(self._connection.execute(statement).scalar())
        return self._webhooks[user_id]

    def add(self, event: TaskEvent) -> None:
        _ADD_ONE_EVENT.execute(self._connection, _event_values(event))
        self.staged.append(event)

    def record(
        self,
        user_id: UserId,
        task_id: TaskId,
        kind: EventKind,
        data: dict[str, Any],
        occurred_at: datetime,
    ) -> TaskEvent:
        if self._connection.dialect.name != "postgresql":
            return super().record(user_id, task_id, kind, data, occurred_at)
        values = {
            "user_id": user_id,
            "task_id": task_id,
            "kind": kind.value,
            "data": data,
            "occurred_at": occurred_at,
        }
        ((sequence, self._webhooks[user_id]),) = _RECORD_EVENT.execute(self._connection, values)
        event = TaskEvent(user_id, int(sequence), task_id, kind, data, occurred_at)
        self.staged.append(event)
        return event

    def add_many(self, events: Sequence[TaskEvent]) -> None:
        if len(events) == 1:  # a single submission's event: the driver's cursor, as `add`
            self.add(events[0])
        elif events:
            self._connection.execute(_ADD_EVENT, [_event_values(event) for event in events])
            self.staged.extend(events)

    def after(
        self, user_id: UserId, sequence: int, *, task_id: TaskId | None = None, limit: int
    ) -> list[TaskEvent]:
        statement = select(_EVENTS).where(
            _EVENTS.c.user_id == user_id, _EVENTS.c.sequence > sequence
        )
        if task_id is not None:
            statement = statement.where(_EVENTS.c.task_id == task_id)
        statement = statement.order_by(_EVENTS.c.sequence).limit(limit)
        return [_event(row) for row in self._connection.execute(statement)]

    def latest(self, task_id: TaskId, kind: EventKind | None = None) -> TaskEvent | None:
        statement = select(_EVENTS).where(_EVENTS.c.task_id == task_id)
        if kind is not None:
            statement = statement.where(_EVENTS.c.kind == kind.value)
        row = self._connection.execute(
            statement.order_by(_EVENTS.c.sequence.desc()).limit(1)
        ).first()
        return _event(row) if row is not None else None

    def last_sequence(self, user_id: UserId) -> int:
        statement = select(_USERS.c.event_sequence).where(_USERS.c.id == user_id)
        return int(self._connection.execute(statement).scalar_one_or_none() or 0)

    def delete_before(self, cutoff: datetime, *, limit: int) -> int:
        oldest = (
            select(_EVENTS.c.occurred_at)
            .where(_EVENTS.c.occurred_at < cutoff)
            .order_by(_EVENTS.c.occurred_at)
            .offset(limit - 1)
            .limit(1)
            .scalar_subquery()
        )
        # At most about `limit` rows: up to the limit-th oldest, or everything before cutoff.
        bound = func.coalesce(oldest, cutoff)
        statement = delete(_EVENTS).where(
            _EVENTS.c.occurred_at < cutoff, _EVENTS.c.occurred_at <= bound
        )
        return _rowcount(self._connection.execute(statement))


def _event_values(event: TaskEvent) -> dict[str, Any]:
    return {
        "user_id": event.user_id,
        "sequence": event.sequence,
        "task_id": event.task_id,
        "kind": event.kind.value,
        "data": event.data,
        "occurred_at": event.occurred_at,
    }


def _event(row: Any) -> TaskEvent:
    return TaskEvent(
        user_id=UserId(row.user_id),
        sequence=row.sequence,
        task_id=TaskId(row.task_id),
        kind=EventKind(row.kind),
        data=row.data,
        occurred_at=row.occurred_at,
    )


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)

"""The SQL repositories of task events and of submissions' idempotency keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.tables import IdempotencyKeyRow, TaskEventRow, UserRow
from application.ports import EventRepository, IdempotencyKeyRepository
from domain.event import EventKind, TaskEvent
from domain.idempotency import IdempotentRequest
from domain.task import TaskId
from domain.user import UserId

_KEYS = cast(Table, IdempotencyKeyRow.__table__)
_EVENTS = cast(Table, TaskEventRow.__table__)
_USERS = cast(Table, UserRow.__table__)
# Built once: on a run's path, building a statement costs more than SQLite executing it.
_BUMP_SEQUENCE = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(event_sequence=_USERS.c.event_sequence + bindparam("count"))
    .returning(_USERS.c.event_sequence, _USERS.c.webhooks)
)
_ADD_EVENT = insert(_EVENTS)
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
_RECORD_EVENT = select(_BUMPED.c.event_sequence, _BUMPED.c.webhooks).add_cte(_STORED)


class SqlAlchemyIdempotencyKeyRepository(IdempotencyKeyRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def hold(self, user_id: UserId, key: str) -> bool:
        if self._session.get_bind().dialect.name == "sqlite":
            # One writer at a time: a concurrent request waits for the first one's commit
            # (the owner's lock that follows), then finds its key.
            return True
        # A transaction-scoped advisory lock on the (user, key) pair: a concurrent request
        # with the same key is told at once (409) rather than queued behind the first.
        held = select(
            func.pg_try_advisory_xact_lock(func.hashtextextended(f"{user_id}\x1f{key}", 0))
        )
        return bool(self._session.execute(held).scalar_one())

    def get(self, user_id: UserId, key: str) -> IdempotentRequest | None:
        row = self._session.execute(
            select(_KEYS).where(_KEYS.c.user_id == user_id, _KEYS.c.key == key)
        ).first()
        if row is None:
            return None
        return IdempotentRequest(
            user_id=UserId(row.user_id),
            key=row.key,
            fingerprint=row.fingerprint,
            task_ids=tuple(TaskId(UUID(task_id)) for task_id in row.task_ids),
            created_at=row.created_at,
            resource_id=row.resource_id,
        )

    def add(self, request: IdempotentRequest) -> None:
        values = {
            "user_id": request.user_id,
            "key": request.key,
            "fingerprint": request.fingerprint,
            "task_ids": [str(task_id) for task_id in request.task_ids],
            "created_at": request.created_at,
            "resource_id": request.resource_id,
        }
        with unique_violations_as_already_exists("idempotency key"):
            self._session.execute(insert(_KEYS).values(values))

    def delete_created_before(self, cutoff: datetime) -> int:
        statement = delete(_KEYS).where(_KEYS.c.created_at < cutoff)
        return _rowcount(self._session.execute(statement))


class SqlAlchemyEventRepository(EventRepository):
    def __init__(self, session: Session) -> None:
        self._session = session
        self.staged: list[TaskEvent] = []
        # users.webhooks as read with the user's latest number in this transaction
        self._webhooks: dict[UserId, bool] = {}

    def next_sequence(self, user_id: UserId, count: int = 1) -> int:
        bumped = self._session.execute(_BUMP_SEQUENCE, {"user_id": user_id, "count": count})
        last, self._webhooks[user_id] = bumped.one()
        return int(last) - count + 1

    def wants_webhooks(self, user_id: UserId) -> bool:
        if user_id not in self._webhooks:
            statement = select(_USERS.c.webhooks).where(_USERS.c.id == user_id)
            self._webhooks[user_id] = bool(self._session.execute(statement).scalar())
        return self._webhooks[user_id]

    def add(self, event: TaskEvent) -> None:
        self._session.execute(_ADD_EVENT, _event_values(event))
        self.staged.append(event)

    def record(
        self,
        user_id: UserId,
        task_id: TaskId,
        kind: EventKind,
        data: dict[str, Any],
        occurred_at: datetime,
    ) -> TaskEvent:
        if self._session.get_bind().dialect.name != "postgresql":
            return super().record(user_id, task_id, kind, data, occurred_at)
        values = {
            "user_id": user_id,
            "task_id": task_id,
            "kind": kind.value,
            "data": data,
            "occurred_at": occurred_at,
        }
        sequence, self._webhooks[user_id] = self._session.execute(_RECORD_EVENT, values).one()
        event = TaskEvent(user_id, int(sequence), task_id, kind, data, occurred_at)
        self.staged.append(event)
        return event

    def add_many(self, events: Sequence[TaskEvent]) -> None:
        if events:
            self._session.execute(_ADD_EVENT, [_event_values(event) for event in events])
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
        return [_event(row) for row in self._session.execute(statement)]

    def latest(self, task_id: TaskId, kind: EventKind | None = None) -> TaskEvent | None:
        statement = select(_EVENTS).where(_EVENTS.c.task_id == task_id)
        if kind is not None:
            statement = statement.where(_EVENTS.c.kind == kind.value)
        row = self._session.execute(statement.order_by(_EVENTS.c.sequence.desc()).limit(1)).first()
        return _event(row) if row is not None else None

    def last_sequence(self, user_id: UserId) -> int:
        statement = select(_USERS.c.event_sequence).where(_USERS.c.id == user_id)
        return int(self._session.execute(statement).scalar_one_or_none() or 0)

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
        return _rowcount(self._session.execute(statement))


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

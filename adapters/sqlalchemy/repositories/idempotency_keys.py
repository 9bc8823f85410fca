"""The SQL repository of submissions' idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import Connection, Table, delete, func, insert, select

from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.tables import IdempotencyKeyRow
from application.ports import IdempotencyKeyRepository
from domain.idempotency import IdempotentRequest
from domain.task import TaskId
from domain.user import UserId

_KEYS = cast(Table, IdempotencyKeyRow.__table__)


class SqlAlchemyIdempotencyKeyRepository(IdempotencyKeyRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def hold(self, user_id: UserId, key: str) -> bool:
        if self._connection.dialect.name == "sqlite":
            # One writer at a time: a concurrent request waits for the first one's commit
            # (the owner's lock that follows), then finds its key.
            return True
        # A transaction-scoped advisory lock on the (user, key) pair: a concurrent request
        # with the same key is told at once (409) rather than queued behind the first.
        held = select(
            func.pg_try_advisory_xact_lock(func.hashtextextended(f"{user_id}\x1f{key}", 0))
        )
        return bool(self._connection.execute(held).scalar_one())

    def get(self, user_id: UserId, key: str) -> IdempotentRequest | None:
        row = self._connection.execute(
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
            self._connection.execute(insert(_KEYS).values(values))

    def delete_created_before(self, cutoff: datetime) -> int:
        statement = delete(_KEYS).where(_KEYS.c.created_at < cutoff)
        return _rowcount(self._connection.execute(statement))


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)

"""Keyset pagination newest first on (created_at, id), shared by every listing."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, tuple_
from sqlalchemy.sql.elements import ColumnElement

from application.ports import Cursor
from domain.errors import ValidationError

S = TypeVar("S", bound=Select[Any])


def newest_first(
    statement: S,
    *,
    created_at: ColumnElement[Any],
    id_: ColumnElement[Any],
    after: Cursor | None,
    limit: int,
) -> S:
    """`statement` ordered by (created_at DESC, id DESC), strictly after `after`, `limit` rows.

    The row-value comparison matches the index order exactly, so rows sharing a
    created_at are neither skipped nor repeated across pages.
    """
    if after is not None:
        # A plain tuple on the right is bound with the column types (UTC timestamp, UUID).
        statement = statement.where(tuple_(created_at, id_) < _position(after))
    return statement.order_by(created_at.desc(), id_.desc()).limit(limit)


def _position(after: Cursor) -> tuple[Any, UUID]:
    try:
        cursor_id = UUID(after.id)
    except ValueError as exc:
        raise ValidationError("cursor is not one this service issued", field="cursor") from exc
    if after.created_at.tzinfo is None:
        raise ValidationError("cursor is not one this service issued", field="cursor")
    return after.created_at, cursor_id

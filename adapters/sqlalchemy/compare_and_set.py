"""Guarded partial updates: write only what changed, and only if nobody changed it first."""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Delete, Update, select, update
from sqlalchemy.orm import Session

from adapters.sqlalchemy.tables import Base
from domain.errors import ConcurrencyConflictError, DomainError, NotFoundError


def write_changes(
    session: Session,
    row_class: type[Base],
    *,
    loaded: dict[str, Any],
    current: dict[str, Any],
    guard: tuple[ColumnElement[bool], ...],
) -> bool:
    """UPDATE the columns of `current` that differ from `loaded`, where `guard` still holds.

    True when the row was written. Columns this writer did not touch keep whatever another
    writer put there since we read them (a heartbeat does not undo a progress report).
    """
    table = row_class.__table__
    changed = {name: value for name, value in current.items() if _differs(loaded[name], value)}
    # Nothing changed: still run the guarded statement (SET id = id). It takes the row lock
    # and tells a lost race apart exactly as a real write would.
    values = changed or {"id": table.c.id}
    statement = (
        update(row_class)
        .where(table.c.id == current["id"], *guard)
        .values(values)
        .execution_options(synchronize_session=False)  # the session holds no rows to sync
    )
    return rows_written(session, statement) == 1


def rows_written(session: Session, statement: Update | Delete) -> int:
    """How many rows an UPDATE or DELETE matched (PostgreSQL and SQLite both count matched rows)."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount


def lost_race(session: Session, row_class: type[Base], row_id: Any, resource: str) -> DomainError:
    """The error for a guarded write that matched no row: the row changed, or is gone."""
    table = row_class.__table__
    context = {f"{resource}_id": str(row_id)}
    if session.scalar(select(table.c.id).where(table.c.id == row_id)) is None:
        return NotFoundError(f"{resource} {row_id} not found", **context)
    return ConcurrencyConflictError(f"{resource} {row_id} was changed by another writer", **context)


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, dict | list) or isinstance(new, dict | list):
        # JSON columns: 1 == 1.0 == True in Python, but not once serialised.
        return _canonical(old) != _canonical(new)
    return type(old) is not type(new) or old != new


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)

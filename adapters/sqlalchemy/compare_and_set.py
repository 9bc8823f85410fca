"""Guarded partial updates: write only what changed, and only if nobody changed it first."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Delete, Table, Update, bindparam, select, update

from adapters.sqlalchemy.tables import Base
from domain.errors import ConcurrencyConflictError, DomainError, NotFoundError


def write_changes(
    connection: Connection,
    row_class: type[Base],
    *,
    loaded: dict[str, Any],
    current: dict[str, Any],
    guard: tuple[str, ...],
) -> bool:
    """UPDATE the columns of `current` that differ from `loaded`, where the `guard` columns
    still hold their `loaded` values (NULL matching NULL).

    True when the row was written. Columns this writer did not touch keep whatever another
    writer put there since we read them (a heartbeat does not undo a progress report).
    """
    changed, params = _guarded_params(loaded, current, guard)
    statement = _guarded_update(row_class.__table__, changed, guard)
    return rows_written(connection, statement, params) == 1


def write_many_changes(
    connection: Connection,
    row_class: type[Base],
    changes: Sequence[tuple[dict[str, Any], dict[str, Any]]],
    *,
    guard: tuple[str, ...],
) -> int:
    """`write_changes` for each (loaded, current) pair, as one executemany per set of columns
    changed: the statement's execution is paid once, not once a row. How many rows were
    written."""
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for loaded, current in changes:
        changed, params = _guarded_params(loaded, current, guard)
        by_shape.setdefault(changed, []).append(params)
    table = row_class.__table__
    return sum(
        rows_written(connection, _guarded_update(table, changed, guard), rows)
        for changed, rows in by_shape.items()
    )


def _guarded_params(
    loaded: dict[str, Any], current: dict[str, Any], guard: tuple[str, ...]
) -> tuple[tuple[str, ...], dict[str, Any]]:
    changed = tuple(
        name for name, value in current.items() if _stored_differently(loaded[name], value)
    )
    params = {f"set_{name}": current[name] for name in changed}
    params |= {f"was_{name}": loaded[name] for name in guard}
    params["row_id"] = current["id"]
    return changed, params


@functools.lru_cache(maxsize=256)
def _guarded_update(table: Table, changed: tuple[str, ...], guard: tuple[str, ...]) -> Update:
    """One statement per shape (table, columns set, columns guarded), built once: building
    it anew with the values inlined was a tenth of a no-op task's run (profiled); with bound
    parameters SQLAlchemy also compiles it once."""
    columns = table.c
    # Nothing changed: still run the guarded statement (SET id = id). It takes the row lock
    # and tells a lost race apart exactly as a real write would.
    values: dict[str, Any] = {
        name: bindparam(f"set_{name}", type_=columns[name].type) for name in changed
    } or {"id": columns.id}
    return (
        update(table)
        .where(
            columns.id == bindparam("row_id", type_=columns.id.type),
            *(
                columns[name].is_not_distinct_from(
                    bindparam(f"was_{name}", type_=columns[name].type)
                )
                for name in guard
            ),
        )
        .values(values)
    )


def rows_written(
    connection: Connection,
    statement: Update | Delete,
    params: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
) -> int:
    """How many rows an UPDATE or DELETE matched (PostgreSQL and SQLite both count matched
    rows), over every parameter set of an executemany."""
    return cast(CursorResult[Any], connection.execute(statement, params)).rowcount


def lost_race(
    connection: Connection, row_class: type[Base], row_id: Any, resource: str
) -> DomainError:
    """The error for a guarded write that matched no row: the row changed, or is gone."""
    table = row_class.__table__
    context = {f"{resource}_id": str(row_id)}
    if connection.scalar(select(table.c.id).where(table.c.id == row_id)) is None:
        return NotFoundError(f"{resource} {row_id} not found", **context)
    return ConcurrencyConflictError(f"{resource} {row_id} was changed by another writer", **context)


def _stored_differently(old: Any, new: Any) -> bool:
    """Whether `new` would be stored differently from `old`. Types count, inside JSON values
    too: 1 == 1.0 == True in Python, but not once serialised. Compared in place, not by
    serialising both (two sorted JSON dumps a column were most of a partial update's cost,
    profiled)."""
    if type(old) is not type(new):
        return True
    if isinstance(old, dict):
        return old.keys() != new.keys() or any(
            _stored_differently(old[key], new[key]) for key in old
        )
    if isinstance(old, list):
        return len(old) != len(new) or any(map(_stored_differently, old, new))
    return bool(old != new)

"""Core statements of the hot paths (every run, every submission), compiled once per dialect
and executed straight on the driver's cursor: SQLAlchemy's own bind and result processing,
without its per-execution context, which cost twice what SQLite took to run the statement
(profiled, ADR 29).

What the engine adds to every statement still happens here: the transaction is begun as the
engine would begin it, the `before_cursor_execute` and `after_cursor_execute` listeners run
(SQLite's writer turns, statement tracing), and a driver error goes through the engine's own
handling (`handle_error`: the translation to application errors, invalidating a dead
connection).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]  # the statement's own values (literals, IN lists)
    binds: tuple[tuple[str, Processor], ...]  # in the order the driver takes them
    positional: bool
    row: Callable[..., Any] | None  # a named tuple of the RETURNING columns
    results: tuple[Processor, ...]


class _Execution:
    """What the engine's cursor listeners see as the execution context: they may keep
    their own attributes on it (a statement's span), as on SQLAlchemy's."""

    executemany = False

    def handle_dbapi_exception(self, _error: BaseException) -> None:
        pass


class DriverStatement:
    """One statement without IN lists given at execution, run on the driver's cursor.

    Its rows are named tuples whose fields are the RETURNING columns' keys, values processed
    as SQLAlchemy would (UUIDs, timestamps, JSON). An INSERT without `values()` names every
    column of its table: it is executed with a value for each."""

    def __init__(self, statement: ClauseElement) -> None:
        self._statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Any]:
        compiled = self._compiled_for(connection.dialect)
        values = {**compiled.defaults, **parameters}
        processed = [
            values[name] if processor is None else processor(values[name])
            for name, processor in compiled.binds
        ]
        bound: Sequence[Any] | dict[str, Any] = processed
        if not compiled.positional:
            bound = dict(zip((name for name, _ in compiled.binds), processed, strict=True))
        if not connection.in_transaction():
            connection.begin()  # as the engine begins one before its first statement
        sql, execution, cursor = compiled.sql, _Execution(), None
        try:
            cursor = connection.connection.cursor()
            for listener in connection.dispatch.before_cursor_execute:
                sql, bound = listener(connection, cursor, sql, bound, execution, False)
            cursor.execute(sql, bound)
            connection.dispatch.after_cursor_execute(
                connection, cursor, sql, bound, execution, False
            )
            fetched: list[Any] = list(cursor.fetchall()) if compiled.row is not None else []
        except BaseException as error:
            # Raises the engine's error, after its handle_error listeners (see above).
            connection._handle_dbapi_exception(error, sql, bound, cursor, execution)  # type: ignore[arg-type]
            raise
        finally:
            if cursor is not None:
                cursor.close()
        if compiled.row is None:
            return fetched
        row, results = compiled.row, compiled.results
        return [
            row(
                *(
                    value if processor is None else processor(value)
                    for processor, value in zip(results, fetched_row, strict=True)
                )
            )
            for fetched_row in fetched
        ]

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = _compile(self._statement, dialect)
            self._compiled[dialect.name] = found
        return found


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)
    # IN lists spelled out (their values are the statement's own); None stands in for the
    # parameters given at execution.
    given = {name: None for name, bind in compiled.binds.items() if bind.required}
    expanded = compiled.construct_expanded_state(given, escape_names=False)
    names = expanded.positiontup if compiled.positional else list(expanded.parameters)
    processors = {**compiled._bind_processors, **expanded.processors}
    binds = tuple((name, processors.get(name)) for name in names)
    defaults = dict(expanded.parameters)
    returned: list[Any] = compiled._result_columns
    if not returned:
        return _Compiled(expanded.statement, defaults, binds, compiled.positional, None, ())
    keys = [column.keyname for column in returned]
    results = tuple(column.type._cached_result_processor(dialect, None) for column in returned)
    row = namedtuple("Row", keys)  # type: ignore[misc]  # the columns are known at run time
    return _Compiled(expanded.statement, defaults, binds, compiled.positional, row, results)

"""How a task's result is shown for reading: a list of records as a table, a flat object as
labelled values, anything else as a collapsible JSON tree. Presentation only: no rule of the
domain is decided here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class ResultView:
    """`kind`: none, table, labelled, tree. `columns`/`rows` for a table, `pairs` for
    labelled values; the tree is drawn from `value` itself."""

    kind: str
    value: Any = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    pairs: list[tuple[str, Any]] = field(default_factory=list)


def result_view(value: Any) -> ResultView:
    if value is None:
        return ResultView("none")
    if _records(value):
        columns: list[str] = []
        for record in value:
            columns.extend(key for key in record if key not in columns)
        rows = [[record.get(column) for column in columns] for record in value]
        return ResultView("table", value, columns=columns, rows=rows)
    if isinstance(value, dict) and value and all(isinstance(v, SCALARS) for v in value.values()):
        # e.g. a checksum's {"path": ..., "sha256": ...}: each value under its label.
        return ResultView("labelled", value, pairs=[(str(k), v) for k, v in value.items()])
    return ResultView("tree", value)


def _records(value: Any) -> bool:
    """A non-empty list of objects whose values are all scalars: rows of a table."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(item, dict) and all(isinstance(v, SCALARS) for v in item.values())
            for item in value
        )
    )

"""How a task's result is shown for reading: a numeric series (a list of numbers, or
`{"chart": [...]}` / `{"chart": {"title": ..., "values": [...]}}`) as a line chart, a list of
records as a table, a flat object as labelled values, anything else as a collapsible JSON
tree. Presentation only: no rule of the domain is decided here."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from entrypoints.http.console.drawings import LineChart, line_chart

SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True, slots=True)
class ResultView:
    """`kind`: none, chart, table, labelled, tree. `chart` for a chart, `columns`/`rows` for
    a table, `pairs` for labelled values; the tree is drawn from `value` itself."""

    kind: str
    value: Any = None
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    pairs: list[tuple[str, Any]] = field(default_factory=list)
    chart: LineChart | None = None


def result_view(value: Any, hint: str | None = None) -> ResultView:
    """`hint`: how the task type says its result is best read; followed when the value has
    that shape (a tree always fits), else the value's own shape decides."""
    if value is None:
        return ResultView("none")
    if hint == "tree":
        return ResultView("tree", value)
    if hint == "labelled" and _flat(value):
        return _labelled(value)
    if hint == "table" and _records(value):
        return _table(value)
    series = _series(value)
    if series is not None:
        title, values = series
        return ResultView("chart", value, chart=line_chart(title, values))
    if _records(value):
        return _table(value)
    if _flat(value):
        # e.g. a checksum's {"path": ..., "sha256": ...}: each value under its label.
        return _labelled(value)
    return ResultView("tree", value)


def _table(value: list[dict[str, Any]]) -> ResultView:
    columns: list[str] = []
    for record in value:
        columns.extend(key for key in record if key not in columns)
    rows = [[record.get(column) for column in columns] for record in value]
    return ResultView("table", value, columns=columns, rows=rows)


def _labelled(value: dict[str, Any]) -> ResultView:
    return ResultView("labelled", value, pairs=[(str(k), v) for k, v in value.items()])


def _flat(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(isinstance(v, SCALARS) for v in value.values())
    )


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


def _series(value: Any) -> tuple[str, list[float]] | None:
    """The title and numbers of a chartable result: at least two finite numbers."""
    title = "Result"
    if isinstance(value, dict) and set(value) == {"chart"}:
        value = value["chart"]
        if isinstance(value, dict):
            title = str(value.get("title") or title)
            value = value.get("values")
    if not (isinstance(value, list) and len(value) >= 2):
        return None
    if not all(_is_number(item) for item in value):
        return None
    return title, [float(item) for item in value]


def _is_number(item: Any) -> bool:
    return isinstance(item, int | float) and not isinstance(item, bool) and math.isfinite(item)

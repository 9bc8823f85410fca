"""How a result is shown on a task's page: the shape of the value decides."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.task_types.registry import TaskArguments, TaskType
from entrypoints.http.console.results import result_view


@pytest.mark.parametrize(
    ("value", "title"),
    [
        ([0.9, 0.5, 0.25, 0.2], "Result"),
        ({"chart": [1, 2, 3]}, "Result"),
        ({"chart": {"title": "loss", "values": [3, 2.5, 1]}}, "loss"),
    ],
)
def test_a_numeric_series_is_drawn_as_a_line_chart(value: Any, title: str) -> None:
    view = result_view(value)
    assert view.kind == "chart"
    assert view.chart is not None
    assert view.chart.title == title
    assert len(view.chart.points.split()) == view.chart.count


def test_the_chart_runs_from_the_least_value_at_the_bottom_to_the_greatest_at_the_top() -> None:
    chart = result_view([1, 3, 2]).chart
    assert chart is not None
    ys = [float(point.split(",")[1]) for point in chart.points.split()]
    assert ys[1] == chart.padding  # 3, the greatest: at the top of the plot
    assert ys[0] == chart.height - chart.padding  # 1, the least: at the bottom
    assert (chart.low, chart.high) == (1, 3)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ([1], "tree"),  # one number is no series
        ([1, True], "tree"),  # a yes/no is not a number
        ([{"word": "a", "count": 2}], "table"),
        ({"path": "/x", "sha256": "ab"}, "labelled"),
        ({"nested": {"a": 1}}, "tree"),
        (None, "none"),
    ],
)
def test_other_shapes_are_a_table_labelled_values_or_a_tree(value: Any, kind: str) -> None:
    assert result_view(value).kind == kind


def test_a_task_types_hint_is_followed_when_the_value_has_that_shape() -> None:
    series = [1, 2, 3]
    assert result_view(series, "tree").kind == "tree"
    assert result_view(series, "table").kind == "chart"  # not records: its own shape decides
    assert result_view({"a": 1}, "labelled").kind == "labelled"
    assert result_view([{"a": 1}], "table").kind == "table"


def test_an_unknown_result_view_is_refused_when_the_task_type_is_declared() -> None:
    with pytest.raises(ValueError, match="result_view must be one of"):
        TaskType(
            name="x",
            function=lambda ctx, args: None,
            arguments=TaskArguments,
            description="x",
            result_view="pie",
        )

"""acme-stats' own tests: its task type is found as installed, refuses what the API refuses,
and computes what it promises. Run with the package installed beside taskhub:
`pip install -e .[test]` then `pytest`."""

from __future__ import annotations

import pytest
from acme_stats import MAX_VALUES, DescribeNumbersArguments, describe_numbers

from adapters.in_memory.task_context import RecordingTaskContext
from adapters.task_types.builtin import builtin_registry
from application.argument_limits import ArgumentLimits
from domain.errors import ValidationError


def submitted(kwargs: dict[str, object]) -> dict[str, object]:
    """What the API does with a submission's kwargs: the size and nesting limits first (the
    registry alone skips them), then the task type's own validation."""
    ArgumentLimits().check(args=[], kwargs=kwargs)
    _, stored = builtin_registry().validate_arguments("describe_numbers", [], kwargs)
    return stored


def test_the_installed_package_is_found_through_its_entry_point() -> None:
    names = [spec.name for spec in builtin_registry().all()]

    assert "describe_numbers" in names


def test_numbers_are_accepted_and_stored_as_json() -> None:
    assert submitted({"values": [1, 2.5]}) == {"values": [1.0, 2.5]}


@pytest.mark.parametrize(
    ("values", "field"),
    [([], "kwargs.values"), (["2"], "kwargs.values.0"), ([1, True], "kwargs.values.1")],
)
def test_what_is_not_a_list_of_numbers_is_refused_naming_the_field(
    values: list[object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        submitted({"values": values})

    assert refused.value.field == field


def test_the_most_values_the_schema_allows_fit_the_apis_size_limit() -> None:
    longest = [-1.2345678901234567e-100] * MAX_VALUES

    assert len(submitted({"values": longest})["values"]) == MAX_VALUES  # type: ignore[arg-type]


def test_it_describes_the_numbers_reporting_progress() -> None:
    ctx = RecordingTaskContext()
    values = [float(n) for n in range(1, 1001)]

    result = describe_numbers(ctx, DescribeNumbersArguments(values=values))

    assert result["count"] == 1000
    assert result["mean"] == 500.5
    assert (result["min"], result["max"]) == (1.0, 1000.0)
    assert result["stdev"] == pytest.approx(288.67, abs=0.01)
    assert ctx.percents == [50, 100]

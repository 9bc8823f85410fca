"""A task's args and kwargs are capped in size and nesting before anything reads them."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from application.argument_limits import ArgumentLimits, canonical_json, nesting_depth
from application.publishing import TaskPublisher
from application.use_cases.submit_task import SubmitTask
from domain.errors import ValidationError
from domain.user import User

LIMITS = ArgumentLimits(max_bytes=100, max_depth=3)


def nested(depth: int) -> Any:
    """Lists inside lists, `depth` of them in all."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.fixture
def submit(
    uow: InMemoryUnitOfWork,
    catalog: StaticTaskTypeCatalog,
    publisher: TaskPublisher,
    clock: FixedClock,
) -> SubmitTask:
    return SubmitTask(
        uow=uow,
        catalog=catalog,
        publisher=publisher,
        clock=clock,
        max_active_tasks=3,
        argument_limits=LIMITS,
    )


# --- the measures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("text", 0), ([], 1), ({}, 1), ([1, {"a": [2]}], 3), ({"a": {"b": {"c": {}}}}, 4)],
)
def test_nesting_depth_counts_lists_and_objects_inside_each_other(value: Any, depth: int) -> None:
    assert nesting_depth(value, stop_after=10) == depth


def test_nesting_depth_stops_counting_just_past_the_limit() -> None:
    assert nesting_depth(nested(100_000), stop_after=10) == 11


def test_canonical_json_measures_the_same_value_the_same_whatever_its_key_order() -> None:
    assert canonical_json({"b": 1, "a": "é"}, field="kwargs") == '{"a":"é","b":1}'.encode()
    assert canonical_json({"a": "é", "b": 1}, field="kwargs") == '{"a":"é","b":1}'.encode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "NaN is not allowed"),
        (float("inf"), "Infinity is not allowed"),
        (float("-inf"), "-Infinity is not allowed"),
        ({1, 2}, "a set is not a JSON value"),
        (object(), "a object is not a JSON value"),
    ],
)
def test_a_value_json_cannot_carry_is_refused_naming_its_position_and_what_it_is(
    value: Any, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        LIMITS.check(args=[1, value], kwargs={})

    [(field, said)] = error.value.field_errors
    assert field == "args.1"
    assert said.startswith(message)
    assert "plain JSON" not in said


def test_every_nan_and_infinity_is_reported_each_under_its_own_field() -> None:
    kwargs = {"values": [1.0, float("nan"), 2.0, float("inf")], "scale": float("nan")}

    with pytest.raises(ValidationError) as error:
        LIMITS.check(args=[], kwargs=kwargs)

    assert [field for field, _ in error.value.field_errors] == [
        "kwargs.values.1",
        "kwargs.values.3",
        "kwargs.scale",
    ]
    assert all("kwargs" not in message for _, message in error.value.field_errors)


# --- the limits ----------------------------------------------------------------------------


def test_arguments_at_the_limits_pass() -> None:
    at_size = {"k": "x" * (100 - len('{"k":""}'))}

    LIMITS.check(args=nested(3), kwargs=at_size)


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (nested(4), {}, "args"),
        ([], {"deep": nested(3)}, "kwargs"),
        (["x" * 100], {}, "args"),
        ([], {"k": "x" * 100}, "kwargs"),
        ([], {"k": "é" * 50}, "kwargs"),  # 100 characters, but 100 bytes only as 50 'é'
    ],
)
def test_arguments_over_a_limit_are_refused_naming_the_field(
    args: Any, kwargs: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        LIMITS.check(args=args, kwargs=kwargs)

    assert error.value.field == field
    assert error.value.context["limit"] in (LIMITS.max_bytes, LIMITS.max_depth)


def test_the_defaults_are_64_kib_and_10_levels() -> None:
    assert ArgumentLimits() == ArgumentLimits(max_bytes=64 * 1024, max_depth=10)


# --- in SubmitTask -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"args": ["x" * 200]}, "args"), ({"kwargs": {"seconds": 1, "deep": nested(5)}}, "kwargs")],
)
def test_a_submission_over_an_argument_limit_stores_and_queues_nothing(
    submit: SubmitTask,
    uow: InMemoryUnitOfWork,
    dispatcher: RecordingTaskDispatcher,
    alice: User,
    arguments: dict[str, Any],
    field: str,
) -> None:
    with pytest.raises(ValidationError) as error:
        submit.execute(alice, name="big", task_type="sleep", **arguments)

    assert error.value.field == field
    assert uow.store.tasks == {}
    assert dispatcher.enqueued == []


def test_a_submission_within_the_limits_goes_through(submit: SubmitTask, alice: User) -> None:
    task = submit.execute(alice, name="small", task_type="sleep", kwargs={"seconds": [[1]]})

    assert task.kwargs == {"seconds": [[1]]}


def test_an_error_names_the_limit_hit_and_the_setting_that_raises_it() -> None:
    limits = ArgumentLimits(max_bytes=100, max_bytes_setting="TASKHUB_MAX_ARGUMENTS_BYTES")

    with pytest.raises(ValidationError) as error:
        limits.check(args=[], kwargs={"k": "x" * 100})

    [(field, message)] = error.value.field_errors
    assert field == "kwargs"
    assert message == (
        "is 108 bytes as JSON, over the limit of 100 bytes "
        "(the server's TASKHUB_MAX_ARGUMENTS_BYTES raises it)"
    )
    assert error.value.context["limit"] == 100
    assert error.value.context["setting"] == "TASKHUB_MAX_ARGUMENTS_BYTES"


def test_the_limits_describe_themselves_with_their_settings() -> None:
    limits = ArgumentLimits(
        max_bytes=100, max_depth=3, max_bytes_setting="MAX_B", max_depth_setting="MAX_D"
    )

    described = limits.describe()

    assert "at most 100 bytes as compact JSON (the server's MAX_B raises it)" in described
    assert "at most 3 levels deep (the server's MAX_D raises it)" in described

"""The worked example of docs/adding-a-task-type.md, `examples/word_count.py`, does what it says."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from pydantic import StrictFloat
from pydantic import ValidationError as PydanticValidationError

from adapters.in_memory.task_context import RecordingTaskContext
from adapters.task_types.builtin import builtin_registry
from adapters.task_types.registry import TaskArguments, TaskTypeRegistry
from application.argument_limits import ArgumentLimits
from application.errors import TaskCancelledError
from domain.errors import ValidationError
from domain.task import Priority
from examples.word_count import MAX_CHARACTERS, TASK_TYPES, WordCountArguments, word_count

ROOT = Path(__file__).resolve().parents[2]
POEM = "The cat sat\non the mat.\n\nThe mat was the cat's; don't ask."


@pytest.fixture(scope="module")
def registry() -> TaskTypeRegistry:
    """The registry as the container builds it with TASKHUB_TASK_MODULES=examples.word_count."""
    return builtin_registry("examples.word_count")


def count(**arguments: object) -> dict[str, object]:
    return word_count(RecordingTaskContext(), WordCountArguments.model_validate(arguments))


# --- the function --------------------------------------------------------------------------


def test_word_count_counts_lines_words_and_characters() -> None:
    result = count(text=POEM, top=3)

    assert result == {
        "lines": 4,
        "words": 13,
        "characters": len(POEM) - 3,  # the three line breaks
        "unique_words": 9,
        "most_common": [
            {"word": "the", "count": 4},
            {"word": "mat", "count": 2},
            {"word": "cat", "count": 1},  # "cat's" is a word of its own
        ],
    }


def test_lines_count_the_same_as_the_text_they_make() -> None:
    assert count(lines=POEM.splitlines()) == count(text=POEM)


def test_words_are_compared_without_case_and_keep_inner_apostrophes_and_hyphens() -> None:
    result = count(text="Well-known WELL-KNOWN don't, dont _x_ 42", top=10)

    assert result["most_common"] == [
        {"word": "well-known", "count": 2},
        {"word": "don't", "count": 1},
        {"word": "dont", "count": 1},
        {"word": "x", "count": 1},
        {"word": "42", "count": 1},
    ]


def test_an_empty_text_counts_nothing_and_reports_nothing() -> None:
    ctx = RecordingTaskContext()

    result = word_count(ctx, WordCountArguments(text=""))

    assert result == {
        "lines": 0,
        "words": 0,
        "characters": 0,
        "unique_words": 0,
        "most_common": [],
    }
    assert ctx.reports == []


def test_the_result_is_json() -> None:
    result = count(text=POEM)

    assert json.loads(json.dumps(result)) == result


def test_word_count_reports_progress_up_to_100() -> None:
    ctx = RecordingTaskContext()
    lines = [f"line {n}" for n in range(25)]

    word_count(ctx, WordCountArguments(lines=lines))

    assert ctx.percents == sorted(ctx.percents)
    assert ctx.percents[-1] == 100
    assert len(ctx.reports) == 9  # slices of ceil(25 / 10) = 3 lines


def test_word_count_stops_when_the_task_is_cancelled() -> None:
    ctx = RecordingTaskContext(cancel_after=2)

    with pytest.raises(TaskCancelledError):
        word_count(ctx, WordCountArguments(lines=["a"] * 100))

    assert len(ctx.reports) == 2


def test_progress_messages_say_how_many_lines_are_done() -> None:
    ctx = RecordingTaskContext()

    word_count(ctx, WordCountArguments(lines=["a"] * 20))

    assert ctx.reports[0] == (10, "2/20 lines")
    assert ctx.reports[-1] == (100, "20/20 lines")


# --- the arguments, as the API and the worker parse them -----------------------------------


def test_the_module_adds_word_count_to_the_built_in_types(registry: TaskTypeRegistry) -> None:
    spec = registry.get("word_count")

    assert [t.name for t in TASK_TYPES] == ["word_count"]
    assert spec.default_priority is Priority.NORMAL
    assert (spec.max_attempts, spec.soft_time_limit, spec.time_limit) == (2, 30, 60)
    assert not spec.internal
    assert set(spec.arguments_schema["properties"]) == {"text", "lines", "top"}
    assert registry.get("countdown").name == "countdown"


def test_what_the_api_stores_is_what_the_worker_parses(registry: TaskTypeRegistry) -> None:
    _, stored = registry.validate_arguments("word_count", ["some text"], {"top": 2})

    parsed = registry.parse("word_count", [], stored)

    assert stored == {"text": "some text", "lines": None, "top": 2}
    assert parsed == WordCountArguments(text="some text", top=2)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({}, "kwargs.lines", "give either text or lines"),
        ({"text": "a", "lines": ["b"]}, "kwargs.lines", "give either text or lines"),
        ({"text": "x" * (MAX_CHARACTERS + 1)}, "kwargs.text", "at most 100000 characters"),
        ({"lines": ["x" * 60_000] * 2}, "kwargs.lines", "at most 100000 characters in all"),
        ({"text": "a", "top": 101}, "kwargs.top", "less than or equal to 100"),
        ({"text": "a", "language": "en"}, "kwargs.language", "Extra inputs"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(
    registry: TaskTypeRegistry, kwargs: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        registry.validate_arguments("word_count", [], kwargs)

    [(named, said)] = refused.value.field_errors
    assert named == field
    assert message in said


def test_a_text_of_exactly_the_maximum_length_is_accepted(registry: TaskTypeRegistry) -> None:
    _, stored = registry.validate_arguments("word_count", [], {"text": "x" * MAX_CHARACTERS})

    assert len(stored["text"]) == MAX_CHARACTERS


# --- what the guide says about arguments, shown true ---------------------------------------


GUIDE = ROOT / "docs" / "adding-a-task-type.md"


def test_a_models_docstring_is_its_public_schema_description(registry: TaskTypeRegistry) -> None:
    description = registry.get("word_count").arguments_schema["description"]

    assert description == WordCountArguments.__doc__
    assert "MAX_CHARACTERS" not in description  # a client cannot know a constant's name
    assert "the model's docstring" in GUIDE.read_text()


class PlainNumbers(TaskArguments):
    values: list[float]


class StrictNumbers(TaskArguments):
    values: list[StrictFloat]


def test_a_plain_float_list_takes_strings_and_booleans_a_strict_one_refuses_them() -> None:
    assert PlainNumbers(values=["2", True]).values == [2.0, 1.0]  # type: ignore[list-item]
    assert StrictNumbers(values=[2, 2.5]).values == [2.0, 2.5]
    with pytest.raises(PydanticValidationError):
        StrictNumbers(values=["2"])  # type: ignore[list-item]
    with pytest.raises(PydanticValidationError):
        StrictNumbers(values=[True])
    assert 'a `list[float]` field accepts `["2", true]`' in GUIDE.read_text()


def test_the_registry_passes_a_text_the_apis_size_limit_refuses(
    registry: TaskTypeRegistry,
) -> None:
    longest = {"text": "x" * MAX_CHARACTERS}

    registry.validate_arguments("word_count", [], longest)
    with pytest.raises(ValidationError) as refused:
        ArgumentLimits().check(args=[], kwargs=longest)

    assert refused.value.context["limit"] == 64 * 1024
    assert "does not apply is the API's size and nesting limit" in GUIDE.read_text()


def test_the_guide_says_what_make_test_leaves_unchecked_in_a_task_module() -> None:
    guide = GUIDE.read_text()
    mypy_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]

    assert "What `make test` does not check in your module" in guide
    assert "examples/word_count.py" in mypy_files  # the example is type-checked, as advised


def test_the_guide_names_exactly_what_mypy_type_checks() -> None:
    # A module missing from this list is not type-checked: the guide must not say otherwise.
    mypy_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["files"]
    guide = " ".join(GUIDE.read_text().split())
    listed = re.search(r"`\[tool\.mypy\] files` of `pyproject\.toml` \(([^)]*)\)", guide)

    assert listed is not None
    named = {span.rstrip("/") for span in re.findall(r"`([^`]+)`", listed[1])}
    assert named == {path.rstrip("/") for path in mypy_files}

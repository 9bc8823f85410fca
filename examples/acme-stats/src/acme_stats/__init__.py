"""Acme's task types for taskhub: `describe_numbers`, summary statistics of a list of numbers.

taskhub finds them through the `taskhub.task_types` entry point in this package's
pyproject.toml: install the package wherever the API and the workers run.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import Field, StrictFloat

from adapters.task_types.registry import TaskArguments, TaskType
from application.ports import TaskContext

# A float takes at most 24 characters in JSON (-1.2345678901234567e-100) and a comma: 2,500
# of them stay under the API's 64 KiB argument limit (TASKHUB_MAX_ARGUMENTS_BYTES). A schema
# allowing more would promise what the API refuses.
MAX_VALUES = 2_500
PROGRESS_EVERY = 500


class DescribeNumbersArguments(TaskArguments):
    """The numbers to describe."""  # public: this docstring is the schema's description

    # StrictFloat: a JSON number only. Plain `float` would also take "2" and true.
    values: list[StrictFloat] = Field(
        min_length=1, max_length=MAX_VALUES, description="The numbers, at least one."
    )


def describe_numbers(ctx: TaskContext, args: DescribeNumbersArguments) -> dict[str, Any]:
    count = len(args.values)
    total = 0.0
    for n, value in enumerate(args.values, start=1):
        total += value
        if n % PROGRESS_EVERY == 0:
            ctx.progress(n * 100 // count, f"{n}/{count} values")  # also checks cancellation
    mean = total / count
    variance = sum((value - mean) ** 2 for value in args.values) / count
    return {
        "count": count,
        "mean": mean,
        "stdev": math.sqrt(variance),
        "min": min(args.values),
        "max": max(args.values),
    }


TASK_TYPES = (
    TaskType(
        name="describe_numbers",
        function=describe_numbers,
        arguments=DescribeNumbersArguments,
        description="Count, mean, standard deviation and range of a list of numbers.",
        max_attempts=1,  # the same numbers give the same answer: retrying cannot help
        time_limit=60,
    ),
)

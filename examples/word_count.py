"""An example task type, `word_count`: lines, words and characters of a text, and its top words.

Load it by naming this module in TASKHUB_TASK_MODULES (`examples.word_count`) for the API and
every worker alike. docs/adding-a-task-type.md walks through it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from adapters.task_types.registry import TaskArguments, TaskType
from application.ports import TaskContext

MAX_CHARACTERS = 100_000
PROGRESS_STEPS = 10
# A word: letters or digits, joined by inner apostrophes or hyphens ("don't", "well-known").
WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")


class WordCountArguments(TaskArguments):
    """Exactly one of `text` and `lines`, at most 100000 characters in all."""

    text: str | None = Field(
        default=None, max_length=MAX_CHARACTERS, description="The text to count."
    )
    lines: list[str] | None = Field(
        default=None,
        validate_default=True,
        description="The text as a list of lines, instead of text.",
    )
    top: int = Field(
        default=10, ge=0, le=100, description="How many of the most common words to list."
    )

    # A check across fields sits on the last of them, so its error names a field
    # ("kwargs.lines") instead of the whole model. `info.data` holds the valid fields before
    # it: an invalid `text` is missing there, and already reported under its own field.
    @field_validator("lines")
    @classmethod
    def _one_source_of_text(cls, lines: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if "text" not in info.data:
            return lines
        if (lines is None) == (info.data["text"] is None):
            raise ValueError("give either text or lines, not both")
        if lines is not None and sum(map(len, lines)) > MAX_CHARACTERS:
            raise ValueError(f"at most {MAX_CHARACTERS} characters in all")
        return lines


def word_count(ctx: TaskContext, args: WordCountArguments) -> dict[str, Any]:
    """Counts in PROGRESS_STEPS slices, reporting progress (and so noticing a cancellation)
    after each one. Line breaks are not counted as characters."""
    lines = args.lines if args.lines is not None else (args.text or "").splitlines()
    words: Counter[str] = Counter()
    characters = 0
    step = max(1, -(-len(lines) // PROGRESS_STEPS))  # ceiling division
    for start in range(0, len(lines), step):
        ctx.check_cancelled()
        for line in lines[start : start + step]:
            words.update(word.lower() for word in WORD.findall(line))
            characters += len(line)
        done = min(start + step, len(lines))
        ctx.progress(done * 100 // len(lines), f"{done}/{len(lines)} lines")
    return {
        "lines": len(lines),
        "words": words.total(),
        "characters": characters,
        "unique_words": len(words),
        "most_common": [{"word": w, "count": n} for w, n in words.most_common(args.top)],
    }


TASK_TYPES = (
    TaskType(
        name="word_count",
        function=word_count,
        arguments=WordCountArguments,
        description="Counts the lines, words and characters of a text; lists its top words.",
        # Counting is deterministic: no error is worth retrying, so `retry_on` stays empty.
        # max_attempts still bounds re-runs after a worker died mid-run.
        max_attempts=2,
        soft_time_limit=30,
        time_limit=60,
    ),
)

"""How large and how deeply nested a task's arguments may be: checked before anything else
reads them, so one request cannot make the API, the database and the broker carry megabytes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from domain.errors import ValidationError


@dataclass(frozen=True, slots=True)
class ArgumentLimits:
    max_bytes: int = 64 * 1024  # of canonical JSON, UTF-8
    max_depth: int = 10  # lists and objects inside each other, the outermost counting one

    def check(self, *, args: list[Any], kwargs: dict[str, Any]) -> None:
        """Raise ValidationError naming `args` or `kwargs`, whichever breaks a limit first."""
        for field, value in (("args", args), ("kwargs", kwargs)):
            if nesting_depth(value, stop_after=self.max_depth) > self.max_depth:
                raise ValidationError(
                    f"{field} nests lists and objects deeper than {self.max_depth} levels",
                    field=field,
                    limit=self.max_depth,
                )
            size = len(canonical_json(value, field=field))
            if size > self.max_bytes:
                raise ValidationError(
                    f"{field} is {size} bytes as JSON; the limit is {self.max_bytes}",
                    field=field,
                    limit=self.max_bytes,
                )


def canonical_json(value: Any, *, field: str) -> bytes:
    """Sorted keys, no blanks, UTF-8: the same value always measures the same."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        # Inside the try: a lone surrogate passes json.dumps and fails only here.
        return text.encode()
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        raise ValidationError(
            f"{field} must be plain JSON of valid Unicode text", field=field
        ) from None


def nesting_depth(value: Any, *, stop_after: int) -> int:
    """How many lists and objects deep `value` goes (0 for a scalar). Iterative, and it stops
    counting past `stop_after`, so a hostile structure costs no more than a legal one."""
    deepest = 0
    pending = [(value, 1)]
    while pending and deepest <= stop_after:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list | tuple):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in item)
    return deepest

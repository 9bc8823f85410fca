"""How large and how deeply nested a task's arguments may be: checked before anything else
reads them, so one request cannot make the API, the database and the broker carry megabytes."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidFieldsError, ValidationError


@dataclass(frozen=True, slots=True)
class ArgumentLimits:
    max_bytes: int = 64 * 1024  # of canonical JSON, UTF-8
    max_depth: int = 10  # lists and objects inside each other, the outermost counting one
    # What an operator sets to raise each limit, named in the errors (the composition root
    # knows the settings; the rule itself does not).
    max_bytes_setting: str | None = None
    max_depth_setting: str | None = None

    def describe(self) -> str:
        """The limits in a sentence, for the task types' documentation."""
        return (
            f"args and kwargs are each at most {self.max_bytes} bytes as compact JSON"
            f"{_raised_by(self.max_bytes_setting)} and nest lists and objects at most "
            f"{self.max_depth} levels deep{_raised_by(self.max_depth_setting)}, whatever the "
            "schema allows"
        )

    def check(self, *, args: list[Any], kwargs: dict[str, Any]) -> None:
        """Raise ValidationError naming each of `args` and `kwargs` that breaks a limit, and
        each value inside them that JSON cannot carry (`kwargs.values.1` for a NaN)."""
        errors: list[tuple[str, str]] = []
        limit: int | None = None
        setting: str | None = None
        for field, value in (("args", args), ("kwargs", kwargs)):
            if nesting_depth(value, stop_after=self.max_depth) > self.max_depth:
                message = f"nests lists and objects deeper than the limit of {self.max_depth}"
                errors.append((field, message + _raised_by(self.max_depth_setting)))
                limit, setting = self.max_depth, self.max_depth_setting
                continue
            unfit = non_json_values(value, field=field)
            if unfit:
                errors += unfit
                continue
            size = len(canonical_json(value, field=field))
            if size > self.max_bytes:
                message = f"is {size} bytes as JSON, over the limit of {self.max_bytes} bytes"
                errors.append((field, message + _raised_by(self.max_bytes_setting)))
                limit, setting = self.max_bytes, self.max_bytes_setting
        if errors:
            context: dict[str, Any] = {} if limit is None else {"limit": limit}
            if setting is not None:
                context["setting"] = setting
            raise InvalidFieldsError(errors, **context)


def _raised_by(setting: str | None) -> str:
    return f" (the server's {setting} raises it)" if setting else ""


def canonical_json(value: Any, *, field: str) -> bytes:
    """Sorted keys, no blanks, UTF-8: the same value always measures the same."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        # Inside the try: a lone surrogate passes json.dumps and fails only here.
        return text.encode()
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        unfit = non_json_values(value, field=field)
        if unfit:
            raise InvalidFieldsError(unfit) from None
        raise ValidationError(
            f"{field} must be plain JSON of valid Unicode text", field=field
        ) from None


def non_json_values(value: Any, *, field: str) -> list[tuple[str, str]]:
    """Each value inside `value` that JSON cannot carry, by its path (`kwargs.values.1`), in
    document order: NaN and the infinities, and anything not a JSON type. Iterative, like
    nesting_depth, so a deep structure cannot exhaust the stack."""
    found: list[tuple[str, str]] = []
    pending: list[tuple[Any, str]] = [(value, field)]
    while pending:
        item, path = pending.pop()
        children: list[tuple[Any, str]] = []
        if isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str):
                    children.append((child, f"{path}.{key}"))
                else:
                    found.append((path, f"key {key!r} is not a string"))
        elif isinstance(item, list | tuple):
            children = [(child, f"{path}.{n}") for n, child in enumerate(item)]
        elif isinstance(item, float) and not math.isfinite(item):
            number = "NaN" if math.isnan(item) else ("Infinity" if item > 0 else "-Infinity")
            found.append((path, f"{number} is not allowed: JSON numbers are finite"))
        elif item is not None and not isinstance(item, str | int | float | bool):
            found.append((path, f"a {type(item).__name__} is not a JSON value"))
        pending.extend(reversed(children))  # popped first to last, so in document order
    return found


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

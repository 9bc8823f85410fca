"""The submit form a task type's JSON Schema describes, and the form's fields read back as
the task's arguments. A number, whole number or yes/no goes to the use case as its JSON type
when it reads as one, anything else as typed (text), so the task type's own validation
judges it and its messages are the ones shown, as on the REST API."""

from __future__ import annotations

import json
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from domain.errors import InvalidFieldsError

ARGUMENT_PREFIX = "arg."  # form names of arguments, apart from the task's own fields


@dataclass(frozen=True, slots=True)
class ArgumentField:
    """One input of the form. `widget`: text, number, integer, boolean, choice, lines, json."""

    name: str
    label: str
    widget: str
    required: bool
    description: str = ""
    default: str = ""
    choices: tuple[str, ...] = ()
    minimum: str = ""
    maximum: str = ""

    @property
    def input_name(self) -> str:
        return ARGUMENT_PREFIX + self.name


def argument_fields(schema: dict[str, Any]) -> list[ArgumentField]:
    """An input per property of the schema, in the schema's order."""
    required = set(schema.get("required", []))
    return [
        _field(name, prop, required=name in required)
        for name, prop in schema.get("properties", {}).items()
    ]


def _field(name: str, prop: dict[str, Any], *, required: bool) -> ArgumentField:
    kind = prop.get("type")
    if "enum" in prop:
        widget = "choice"
    elif kind in ("string", "number", "integer", "boolean"):
        widget = "text" if kind == "string" else kind
    elif kind == "array" and prop.get("items", {}).get("type") in ("string", "number", "integer"):
        widget = "lines"  # one item a line
    else:
        widget = "json"
    default = prop.get("default")
    return ArgumentField(
        name=name,
        label=str(prop.get("title") or name.replace("_", " ").capitalize()),
        widget=widget,
        required=required,
        description=str(prop.get("description", "")),
        default=_shown(default, widget) if "default" in prop else "",
        choices=tuple(str(choice) for choice in prop.get("enum", ())),
        minimum=str(prop.get("minimum", prop.get("exclusiveMinimum", ""))),
        maximum=str(prop.get("maximum", prop.get("exclusiveMaximum", ""))),
    )


def _shown(value: Any, widget: str) -> str:
    if widget == "lines" and isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if widget == "json":
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def arguments_from(form: FormData, fields: list[ArgumentField]) -> dict[str, Any]:
    """The kwargs the form's inputs give. A blank input is left out, so the task type's
    default applies, or its 'Field required' message when there is none. Raises
    InvalidFieldsError only for what the form itself cannot read (JSON that does not parse)."""
    kwargs: dict[str, Any] = {}
    unreadable: list[tuple[str, str]] = []
    for field in fields:
        raw = form.get(field.input_name)
        if not isinstance(raw, str) or not raw.strip():
            continue
        if field.widget == "lines":
            kwargs[field.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif field.widget == "json":
            try:
                kwargs[field.name] = json.loads(raw)
            except json.JSONDecodeError as exc:
                unreadable.append((f"kwargs.{field.name}", f"not valid JSON: {exc.msg}"))
        else:
            kwargs[field.name] = _typed(raw.strip(), field.widget)
    if unreadable:
        raise InvalidFieldsError(unreadable)
    return kwargs


def _typed(text: str, widget: str) -> Any:
    """A number, whole number or yes/no as its JSON type when it reads as one (a schedule
    keeps its arguments as given); otherwise the text, for the task type's own message."""
    try:
        if widget == "number":
            number = float(text)
            return number if math.isfinite(number) else text
        if widget == "integer":
            return int(text)
    except ValueError:
        return text
    if widget == "boolean" and text in ("true", "false"):
        return text == "true"
    return text


def messages_by_input(
    field_errors: list[tuple[str, str]],
    inputs: Collection[str] = ("name", "task_type", "priority"),
) -> dict[str, list[str]]:
    """Each error under the input it belongs beside: `kwargs.seconds` under `arg.seconds`,
    `kwargs.paths.2` under `arg.paths`, a field of `inputs` (`name`) under itself; the rest
    under `form`."""
    shown: dict[str, list[str]] = {}
    for field, message in field_errors:
        parts = field.split(".")
        if parts[0] == "kwargs" and len(parts) > 1:
            key = ARGUMENT_PREFIX + parts[1]
            if len(parts) > 2:
                message = f"item {'.'.join(parts[2:])}: {message}"
        elif parts[0] in inputs:
            key = parts[0]
        else:
            key = "form"
        shown.setdefault(key, []).append(message)
    return shown

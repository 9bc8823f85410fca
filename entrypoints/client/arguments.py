"""Task arguments as typed on a command line: JSON documents and key=value pairs."""

from __future__ import annotations

import json
from typing import Any

import typer


def json_object(text: str | None, *, option: str) -> dict[str, Any]:
    value = _json(text, option=option) if text else {}
    if not isinstance(value, dict):
        raise typer.BadParameter(
            "must be a JSON object, e.g. '{\"seconds\": 5}'", param_hint=option
        )
    return value


def json_array(text: str | None, *, option: str) -> list[Any]:
    value = _json(text, option=option) if text else []
    if not isinstance(value, list):
        raise typer.BadParameter("must be a JSON array, e.g. '[1, \"two\"]'", param_hint=option)
    return value


def pairs(items: list[str] | None, *, option: str) -> dict[str, Any]:
    """key=value each; the value is read as JSON when it parses (5, true, [1]), else as text."""
    result: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint=option)
        try:
            result[key.strip()] = json.loads(raw)
        except ValueError:
            result[key.strip()] = raw
    return result


def _json(text: str, *, option: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None

"""Task arguments as typed on a command line: JSON documents and key=value pairs."""

from __future__ import annotations

import json
import re
from datetime import datetime
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


_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(text: str, *, option: str) -> float:
    """'90', '90s', '10m', '1h30m', '2d': seconds."""
    compact = text.strip().lower().replace(" ", "")
    try:
        return float(compact)
    except ValueError:
        pass
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + unit for n, unit in parts) != compact:
        raise typer.BadParameter(
            f"{text!r} is not a duration, e.g. 90s, 10m, 1h30m, 2d", param_hint=option
        )
    return sum(float(n) * _UNIT_SECONDS[unit] for n, unit in parts)


def moment(text: str, *, option: str) -> str:
    """An RFC 3339 time with its offset, as the API takes it: a time without one would be
    read in whichever zone the server is in, so it is refused here."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time, e.g. 2026-12-24T18:00+01:00", param_hint=option
        ) from None
    if value.tzinfo is None:
        raise typer.BadParameter(
            f"{text!r} has no UTC offset, e.g. 2026-12-24T18:00+01:00 or ...Z",
            param_hint=option,
        )
    return value.isoformat()


def _json(text: str, *, option: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc}", param_hint=option) from None

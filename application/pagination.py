"""Keyset pagination: opaque cursors and page-size rules shared by every listing."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from application.ports import Cursor
from domain.errors import ValidationError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps([cursor.created_at.isoformat(), cursor.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str) -> Cursor:
    try:
        padded = token + "=" * (-len(token) % 4)
        created_at, id_ = json.loads(base64.urlsafe_b64decode(padded.encode()))
        position = datetime.fromisoformat(created_at)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationError("cursor is not one this service issued", field="cursor") from exc
    if position.tzinfo is None:
        # We only issue aware timestamps; a naive one cannot be compared with stored rows.
        raise ValidationError("cursor is not one this service issued", field="cursor")
    return Cursor(created_at=position, id=str(id_))


def check_limit(limit: int | None, *, cap: int, default: int) -> int:
    """The page size to use: the client's, if within 1..cap, or `default` when none given."""
    if limit is None:
        return min(default, cap)
    if not 1 <= limit <= cap:
        raise ValidationError(f"limit must be between 1 and {cap}", field="limit")
    return limit


class HasPosition(Protocol):
    """Anything listed by keyset: it has an id and a creation time."""

    @property
    def id(self) -> object: ...

    @property
    def created_at(self) -> datetime: ...


P = TypeVar("P", bound=HasPosition)


def page_of(rows: list[P], *, limit: int) -> Page[P]:
    """Build a page from up to `limit + 1` rows: the extra row only says another page exists."""
    items = rows[:limit]
    if len(rows) <= limit or not items:
        return Page(items=items, next_cursor=None)
    last = items[-1]
    return Page(items=items, next_cursor=encode_cursor(Cursor(last.created_at, str(last.id))))

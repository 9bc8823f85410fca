"""The timestamp column type: timezone-aware UTC datetimes in, timezone-aware UTC out."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that never hands back a naive or non-UTC datetime.

    SQLite has no timezone-aware type: values are stored as naive UTC text and tagged UTC
    again when read. PostgreSQL returns its session time zone; we convert to UTC so entities
    compare the same whichever database loaded them.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            # Guessing the zone of a naive value would corrupt data silently.
            raise ValueError(f"naive datetime {value!r}: the domain uses timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

"""Each SQLite connection's page cache is bounded: the API's pool holds up to 15 of them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from adapters.sqlalchemy.engine import SQLITE_PAGE_CACHE_KIB, create_database_engine


def test_every_sqlite_connection_caches_at_most_the_bounded_pages(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'taskhub.db'}")
    try:
        with engine.connect() as first, engine.connect() as second:
            sizes = [c.scalar(text("PRAGMA cache_size")) for c in (first, second)]
    finally:
        engine.dispose()
    assert sizes == [-SQLITE_PAGE_CACHE_KIB, -SQLITE_PAGE_CACHE_KIB]
    assert SQLITE_PAGE_CACHE_KIB < 2000  # below SQLite's default of 2000 KiB

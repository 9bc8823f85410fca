"""Databases for integration tests: always a fresh SQLite file, PostgreSQL when configured.

PostgreSQL tests run in a throwaway schema of the server named by TASKHUB_TEST_DATABASE_URL,
so they never clash with other users of that database. Without the variable they skip,
saying why; with TASKHUB_TEST_REQUIRE_SERVICES=1 a missing or unreachable server fails them.
Other test packages use the `database_url` fixture by importing it into their conftest.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from adapters.sqlalchemy.engine import create_migration_engine, parse_database_url
from adapters.sqlalchemy.migrate import upgrade_database

DATABASE_URL_ENV = "TASKHUB_TEST_DATABASE_URL"
REQUIRE_SERVICES_ENV = "TASKHUB_TEST_REQUIRE_SERVICES"


def database_backends() -> list[Any]:
    """pytest parameters, one per SQL backend under test."""
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'taskhub.db'}"


def require_postgresql() -> str:
    """The server URL from the environment once it answered; skips or fails otherwise."""
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        _unavailable(f"set {DATABASE_URL_ENV} to run against PostgreSQL")
    problem = _postgresql_problem(url)
    if problem is not None:
        shown = parse_database_url(url).render_as_string(hide_password=True)
        _unavailable(f"PostgreSQL at {shown} is unreachable: {problem}")
    return url


@contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file in `directory`, or a new schema."""
    if backend == "sqlite":
        yield sqlite_url(directory)
    else:
        with throwaway_schema(require_postgresql()) as url:
            yield url


@contextmanager
def migrated_database(backend: str, directory: Path) -> Iterator[str]:
    """Like `empty_database`, migrated to the latest revision."""
    with empty_database(backend, directory) as url:
        upgrade_database(url)
        yield url


@contextmanager
def throwaway_schema(server_url: str) -> Iterator[str]:
    """A URL whose connections work in a new, empty schema, dropped (with all in it) after.

    Close every engine made from the URL before the block ends.
    """
    schema = f"th_{uuid4().hex[:12]}"
    admin = create_migration_engine(server_url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        url = parse_database_url(server_url).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=database_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database at the latest migration, on SQLite and on PostgreSQL."""
    with migrated_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[str]:
    """Like `database_url`, PostgreSQL only: for what only PostgreSQL does (row locks)."""
    with migrated_database("postgresql", tmp_path) as url:
        yield url


@functools.cache
def _postgresql_problem(url: str) -> str | None:
    # Asked once per session: every PostgreSQL test would otherwise wait for the timeout.
    engine = create_migration_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        engine.dispose()
    return None


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_SERVICES_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_ENV}=1)", pytrace=False)
    pytest.skip(reason)

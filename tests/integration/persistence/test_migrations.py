"""The migrations build exactly the schema the ORM describes, and undo it, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from adapters.sqlalchemy.engine import create_migration_engine
from adapters.sqlalchemy.migrate import downgrade_database, upgrade_database
from adapters.sqlalchemy.tables import Base
from tests.support.databases import database_backends, empty_database

TABLES = {
    "users",
    "models",
    "tasks",
    "readiness_probe",
    "schedules",
    "schedule_fires",
    "workflows",
    "idempotency_keys",
    "task_events",
    "task_attempts",
    "task_logs",
    "webhook_endpoints",
    "webhook_deliveries",
    "callbacks",
    "callback_secrets",
}


@pytest.fixture(params=database_backends())
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with empty_database(request.param, tmp_path) as url:
        yield url


def tables(url: str) -> set[str]:
    engine = create_migration_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_migrations_go_up_down_and_up_again_from_any_directory(
    empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini to find: the package carries its scripts

    upgrade_database(empty_database_url)
    after_upgrade = tables(empty_database_url)
    downgrade_database(empty_database_url)
    after_downgrade = tables(empty_database_url)
    upgrade_database(empty_database_url)

    assert after_upgrade == TABLES
    assert after_downgrade == set()
    assert tables(empty_database_url) == TABLES


def test_the_migrated_schema_matches_the_orm_exactly(database_url: str) -> None:
    engine = create_migration_engine(database_url)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()

    assert differences == []

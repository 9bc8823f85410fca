"""Unit-of-work factories on every backend: in-memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from adapters.in_memory.repositories import InMemoryStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.user import User
from tests.factories import make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save, sql_units_of_work
from tests.support.databases import database_backends, migrated_database
from tests.support.databases import database_url as database_url  # fixture, re-exported
from tests.support.databases import postgresql_url as postgresql_url  # fixture, re-exported


@pytest.fixture(params=[pytest.param("memory", id="memory"), *database_backends()])
def new_uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NewUnitOfWork]:
    """Makes units of work sharing one store, so a test can race two of them."""
    if request.param == "memory":
        store = InMemoryStore()
        yield lambda: InMemoryUnitOfWork(store)
        return
    with migrated_database(request.param, tmp_path) as url, sql_units_of_work(url) as factory:
        yield factory


@pytest.fixture
def owner(new_uow: NewUnitOfWork) -> User:
    """A saved user to own the tasks and models of a contract test."""
    return save(new_uow, make_user())


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_database_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def new_sql_uow(engine: Engine) -> NewUnitOfWork:
    """Makes SQL units of work on the same database as `engine` (SQLite and PostgreSQL)."""
    connection_factory = create_connection_factory(engine)
    return lambda: SqlAlchemyUnitOfWork(connection_factory)

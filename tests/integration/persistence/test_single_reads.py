"""Units of work for single reads (a token's user, whether a run is current): on PostgreSQL
they open no transaction, so the read is the one round trip and holds nothing after it;
the data read is the same as through an ordinary unit of work."""

from __future__ import annotations

from dataclasses import asdict

import psycopg
from sqlalchemy import Engine

from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.user import User
from tests.factories import make_user


def test_a_single_read_on_postgresql_runs_outside_any_transaction(postgresql_url: str) -> None:
    engine = create_database_engine(postgresql_url)
    try:
        user = make_user()
        with SqlAlchemyUnitOfWork(create_connection_factory(engine)) as uow:
            uow.users.add(user)
            uow.commit()

        single, single_status = _read(engine, user, single_reads=True)
        ordinary, ordinary_status = _read(engine, user, single_reads=False)

        assert asdict(single) == asdict(ordinary) == asdict(user)
        assert single_status is psycopg.pq.TransactionStatus.IDLE  # no BEGIN was sent
        assert ordinary_status is psycopg.pq.TransactionStatus.INTRANS
    finally:
        engine.dispose()


def _read(engine: Engine, user: User, *, single_reads: bool) -> tuple[User, object]:
    """The user as read, and the connection's transaction status right after the read."""
    factory = create_connection_factory(engine, single_reads=single_reads)
    with SqlAlchemyUnitOfWork(factory) as uow:
        read = uow.users.get(user.id)
        dbapi = uow._connection.connection.dbapi_connection
        assert isinstance(dbapi, psycopg.Connection)
        return read, dbapi.info.transaction_status

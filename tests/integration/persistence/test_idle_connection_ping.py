"""PostgreSQL connections are pinged on checkout only after idling in the pool: a connection
the server dropped meanwhile is replaced before use, a busy one costs no round trip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from adapters.sqlalchemy import engine as engine_module
from adapters.sqlalchemy.engine import create_database_engine


@pytest.fixture
def pg_engine(postgresql_url: str) -> Iterator[Engine]:
    created = create_database_engine(postgresql_url)
    yield created
    created.dispose()


@pytest.fixture
def pings(pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    ping = pg_engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        seen.append(dbapi_connection)
        return bool(ping(dbapi_connection))

    monkeypatch.setattr(pg_engine.dialect, "do_ping", counted)
    return seen


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_back_from_use_moments_ago_is_not_pinged(
    pg_engine: Engine, pings: list[Any]
) -> None:
    first = backend_pid(pg_engine)

    assert backend_pid(pg_engine) == first
    assert pings == []


def test_a_connection_the_server_dropped_while_it_idled_is_replaced_before_use(
    pg_engine: Engine, pings: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pg_engine.connect() as victim, pg_engine.connect() as other:
        dropped = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        victim.commit()  # idle: it goes back to the pool without a word to the server
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        other.commit()
    monkeypatch.setattr(engine_module, "IDLE_BEFORE_PING_SECONDS", 0.0)  # as if long idle

    pids = {backend_pid(pg_engine), backend_pid(pg_engine)}

    assert dropped not in pids
    assert len(pings) >= 1

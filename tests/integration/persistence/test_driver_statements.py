"""A statement run on the driver's cursor (`DriverStatement`) behaves as the engine's own
execution of it, on SQLite and PostgreSQL: the same values written and read back, inside the
unit of work's transaction, seen by the engine's cursor listeners, and its driver errors
translated by the engine's error handling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, bindparam, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from adapters.sqlalchemy.driver_statements import DriverStatement
from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.tables import TaskEventRow, TaskRow
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.errors import DependencyUnavailableError
from domain.task import Task
from tests.factories import T0, make_task, make_user
from tests.support.databases import migrated_database

TASKS = cast(Table, TaskRow.__table__)
EVENTS = cast(Table, TaskEventRow.__table__)
SET_RESULT = DriverStatement(
    update(TASKS)
    .where(TASKS.c.id == bindparam("task_id", type_=TASKS.c.id.type))
    .values(
        result=bindparam("new_result", type_=TASKS.c.result.type),
        completed_at=bindparam("ended", type_=TASKS.c.completed_at.type),
    )
    .returning(*TASKS.c)
)
ADD_EVENT = DriverStatement(insert(EVENTS))


@pytest.fixture
def stored_task(engine: Engine) -> Task:
    return store_task(engine)


def store_task(engine: Engine) -> Task:
    user = make_user()
    task = make_task(user=user, kwargs={"to": "ops@example.com", "n": [1, 2.5, None]})
    with SqlAlchemyUnitOfWork(create_connection_factory(engine)) as uow:
        uow.users.add(user)
        uow.tasks.add(task)
        uow.commit()
    return task


def engine_row(engine: Engine, task: Task) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(select(TASKS).where(TASKS.c.id == task.id)).one()
    return dict(row._mapping)


def test_its_returned_row_is_the_row_the_engine_reads_back(
    engine: Engine, stored_task: Task
) -> None:
    result = {"rows": [1, True, 2.5, None, "é"], "ok": False}
    with engine.connect() as connection:
        (returned,) = SET_RESULT.execute(
            connection,
            {"task_id": stored_task.id, "new_result": result, "ended": T0 + timedelta(seconds=3)},
        )
        connection.commit()

    read = engine_row(engine, stored_task)
    assert returned._asdict() == read
    assert read["result"] == result
    assert read["completed_at"] == T0 + timedelta(seconds=3)
    assert read["kwargs"] == {"to": "ops@example.com", "n": [1, 2.5, None]}


def test_a_json_none_is_written_as_the_engine_writes_it(engine: Engine, stored_task: Task) -> None:
    """`result` stores None as SQL NULL (none_as_null); an event's `data` stores JSON."""
    with engine.connect() as connection:
        SET_RESULT.execute(connection, {"task_id": stored_task.id, "new_result": None, "ended": T0})
        ADD_EVENT.execute(
            connection,
            {
                "user_id": stored_task.user_id,
                "sequence": 1,
                "task_id": stored_task.id,
                "kind": "status",
                "data": {"status": "completed", "error": None},
                "occurred_at": T0,
            },
        )
        connection.commit()
        nulls = connection.execute(
            select(TASKS.c.id).where(TASKS.c.id == stored_task.id, TASKS.c.result.is_(None))
        ).all()
        data = connection.execute(select(EVENTS.c.data)).scalar_one()
    assert len(nulls) == 1
    assert data == {"status": "completed", "error": None}


def test_its_write_belongs_to_the_unit_of_works_transaction(
    engine: Engine, stored_task: Task
) -> None:
    """The first statement of a transaction: rolled back with it, committed with it."""
    values = {"task_id": stored_task.id, "new_result": {"n": 1}, "ended": T0}
    with engine.connect() as connection:
        SET_RESULT.execute(connection, values)
        connection.rollback()
    assert engine_row(engine, stored_task)["result"] is None

    with engine.connect() as connection:
        SET_RESULT.execute(connection, values)
        connection.commit()
    assert engine_row(engine, stored_task)["result"] == {"n": 1}


@pytest.fixture
def seen(engine: Engine) -> Iterator[list[tuple[str, str]]]:
    """What the engine's cursor listeners were called with, as the tracing listeners are:
    an attribute set on the context before the statement and read after it."""
    calls: list[tuple[str, str]] = []

    def before(_c: Any, _cur: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        context.marker = statement.split()[0]
        calls.append(("before", statement.split()[0]))

    def after(_c: Any, _cur: Any, statement: str, _p: Any, context: Any, _m: Any) -> None:
        calls.append(("after", context.marker))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    yield calls
    event.remove(engine, "before_cursor_execute", before)
    event.remove(engine, "after_cursor_execute", after)


def test_the_engines_cursor_listeners_see_it(
    engine: Engine, stored_task: Task, seen: list[tuple[str, str]]
) -> None:
    with engine.connect() as connection:
        SET_RESULT.execute(connection, {"task_id": stored_task.id, "new_result": 1, "ended": T0})
        connection.commit()
    assert seen == [("before", "UPDATE"), ("after", "UPDATE")]


def test_a_constraint_violation_is_the_engines_error(engine: Engine, stored_task: Task) -> None:
    event_values = {
        "user_id": stored_task.user_id,
        "sequence": 7,
        "task_id": stored_task.id,
        "kind": "status",
        "data": {},
        "occurred_at": T0,
    }
    with engine.connect() as connection:
        ADD_EVENT.execute(connection, event_values)
        with pytest.raises(IntegrityError):
            ADD_EVENT.execute(connection, event_values)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    with migrated_database("sqlite", tmp_path) as url:
        engine = create_database_engine(url)
        yield engine
        engine.dispose()


@pytest.fixture
def postgresql_engine(postgresql_url: str) -> Iterator[Engine]:
    engine = create_database_engine(postgresql_url)
    yield engine
    engine.dispose()


def test_a_locked_sqlite_database_is_unavailable_not_a_driver_error(
    sqlite_engine: Engine,
) -> None:
    engine, stored_task = sqlite_engine, store_task(sqlite_engine)
    with engine.connect() as holder, engine.connect() as writer:
        holder.exec_driver_sql("BEGIN IMMEDIATE")
        writer.exec_driver_sql("PRAGMA busy_timeout = 50")
        with pytest.raises(DependencyUnavailableError) as raised:
            SET_RESULT.execute(writer, {"task_id": stored_task.id, "new_result": 1, "ended": T0})
        holder.rollback()
    assert raised.value.cause == "database is locked by another writer"


def test_a_lost_postgresql_connection_is_unavailable_and_replaced(
    postgresql_engine: Engine,
) -> None:
    engine, stored_task = postgresql_engine, store_task(postgresql_engine)
    values = {"task_id": stored_task.id, "new_result": 1, "ended": T0}
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DependencyUnavailableError):
            SET_RESULT.execute(connection, values)
        assert connection.invalidated

    with engine.connect() as connection:  # the pool hands out a working connection
        SET_RESULT.execute(connection, values)
        connection.commit()
    assert engine_row(engine, stored_task)["result"] == 1

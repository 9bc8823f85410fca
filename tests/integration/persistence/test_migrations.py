"""The migrations build exactly the schema the ORM describes, and undo it, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, event, insert, inspect, select, text

from adapters.sqlalchemy.engine import (
    create_connection_factory,
    create_database_engine,
    create_migration_engine,
)
from adapters.sqlalchemy.migrate import downgrade_database, upgrade_database
from adapters.sqlalchemy.tables import Base
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from tests.factories import T0
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


def test_waiting_tasks_stored_before_the_count_existed_get_their_unmet_dependencies(
    empty_database_url: str,
) -> None:
    """0012 counts, for each waiting task, the dependencies not yet ended as its workflow
    asks: completed ones are met; under `continue` a failed one is met too."""
    upgrade_database(empty_database_url, "0011")
    tables = Base.metadata.tables
    users, workflows, tasks = tables["users"], tables["workflows"], tables["tasks"]
    user_id = uuid4()
    engine = create_migration_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(users).values(
                    id=user_id,
                    email="before@example.com",
                    hashed_password="x",
                    is_active=True,
                    is_admin=False,
                    created_at=T0,
                )
            )
            waiting = {}
            for on_failure in ("cancel_dependents", "continue"):
                workflow_id = uuid4()
                connection.execute(
                    insert(workflows).values(
                        id=workflow_id,
                        name=on_failure,
                        status="running",
                        on_failure=on_failure,
                        user_id=user_id,
                        created_at=T0,
                    )
                )
                for key, status, depends_on in [
                    ("done", "completed", None),
                    ("broke", "failed", None),
                    ("busy", "running", None),
                    ("last", "waiting", ["done", "broke", "busy"]),
                ]:
                    task_id = uuid4()
                    connection.execute(
                        insert(tasks).values(
                            id=task_id,
                            name=key,
                            task_type="noop",
                            status=status,
                            priority="normal",
                            args=[],
                            kwargs={},
                            progress=0,
                            created_at=T0,
                            user_id=user_id,
                            attempts=0,
                            max_attempts=3,
                            dispatched=False,
                            workflow_id=workflow_id,
                            workflow_key=key,
                            depends_on=depends_on,
                        )
                    )
                waiting[on_failure] = task_id
        upgrade_database(empty_database_url)
        with engine.connect() as connection:
            unmet = {
                on_failure: connection.scalar(
                    select(tasks.c.unmet_dependencies).where(tasks.c.id == task_id)
                )
                for on_failure, task_id in waiting.items()
            }
    finally:
        engine.dispose()

    assert unmet == {"cancel_dependents": 2, "continue": 1}


PARTIAL_TASK_INDEXES = {
    "ix_tasks_concurrency_key_status": "concurrency_key IS NOT NULL",
    "ix_tasks_held_priority_user_id_created_at": "held IS NOT NULL",
    "ix_tasks_model_id": "model_id IS NOT NULL",
    "ix_tasks_schedule_id_created_at": "schedule_id IS NOT NULL",
    "ix_tasks_workflow_id_status": "workflow_id IS NOT NULL",
    "ix_tasks_pending_dispatched_created_at": "status = 'pending'",
    "ix_tasks_pending_dispatched_due_at": "status = 'pending'",
    "ix_tasks_pending_dispatched_run_at": "status = 'pending'",
}


def _index_predicates(connection: Connection) -> dict[str, str]:
    if connection.dialect.name == "sqlite":
        rows = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks'")
        )
    else:
        rows = connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks'")
        )
    return {name: (sql or "").partition(" WHERE ")[2] for name, sql in rows}


def test_the_indexes_of_mostly_null_task_columns_hold_only_rows_with_a_value(
    database_url: str,
) -> None:
    # compare_metadata does not compare index predicates: this does, migrations and ORM.
    engine = create_migration_engine(database_url)
    with engine.connect() as connection:
        migrated = _index_predicates(connection)
    engine.dispose()
    described = {
        index.name: str(index.dialect_options["sqlite"]["where"])
        for index in Base.metadata.tables["tasks"].indexes
        if index.dialect_options["sqlite"]["where"] is not None
    }

    assert set(described) == set(PARTIAL_TASK_INDEXES)
    for name, condition in PARTIAL_TASK_INDEXES.items():
        assert _plain(described[name]) == _plain(condition), name
        assert _plain(migrated[name]) == _plain(condition), name


def _plain(condition: str) -> str:
    """A condition as either database or SQLAlchemy spells it: PostgreSQL adds parentheses
    and casts ('pending'::text), SQLAlchemy qualifies the column (tasks.status)."""
    text_ = condition.lower().replace("::text", "").replace("tasks.", "")
    return " ".join(text_.replace("(", " ").replace(")", " ").split())


def test_a_lookup_by_workflow_or_concurrency_key_uses_its_partial_index(
    database_url: str,
) -> None:
    # The queries compare with a bound value, never IS NOT NULL: both planners must still
    # prove the index's condition from `column = ?`, or a sweep would scan every task.
    lookups = {
        "ix_tasks_workflow_id_status": ("workflow_id", "uuid", str(uuid4())),
        "ix_tasks_concurrency_key_status": ("concurrency_key", "text", "key"),
    }
    engine = create_migration_engine(database_url)
    plans = {}
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if not sqlite:
            connection.execute(text("SET enable_seqscan = off"))
            # The plan a prepared statement gets once PostgreSQL stops planning per value.
            connection.execute(text("SET plan_cache_mode = force_generic_plan"))
        for name, (column, kind, value) in lookups.items():
            if sqlite:
                query = f"SELECT id FROM tasks WHERE {column} = :value AND status = 'waiting'"  # noqa: S608 - constant names
                rows = connection.execute(text(f"EXPLAIN QUERY PLAN {query}"), {"value": value})
            else:
                connection.execute(
                    text(
                        f"PREPARE {name}_probe ({kind}, text) AS SELECT id FROM tasks "  # noqa: S608
                        f"WHERE {column} = $1 AND status = $2"
                    )
                )
                rows = connection.execute(
                    text(f"EXPLAIN EXECUTE {name}_probe ('{value}', 'waiting')")
                )
            plans[name] = " ".join(str(field) for row in rows for field in row)
    engine.dispose()

    for name, plan in plans.items():
        assert name in plan, plan


def test_the_sweeps_of_pending_tasks_use_their_partial_indexes(database_url: str) -> None:
    # A sweep whose query the planner cannot match with its index's condition would read
    # every task: each statement the repository sends is explained, as it was sent.
    engine = create_database_engine(database_url)
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    sweeps = {
        "ix_tasks_pending_dispatched_created_at": lambda uow: uow.tasks.list_undispatched(
            created_before=T0, limit=10
        ),
        "ix_tasks_pending_dispatched_due_at": lambda uow: uow.tasks.list_overdue(
            queue="default", due_before=T0, limit=10
        ),
        "ix_tasks_pending_dispatched_run_at": lambda uow: uow.tasks.list_due_delayed(
            now=T0, limit=10
        ),
    }
    plans = {}
    for index, sweep in sweeps.items():
        with SqlAlchemyUnitOfWork(create_connection_factory(engine)) as uow:
            sent.clear()
            sweep(uow)
            statement, parameters = sent[-1]
            # Inline, not bound: a bound status would do on a plan made for its value, not
            # on the generic plan PostgreSQL settles on for a statement prepared often.
            assert "tasks.status = 'pending'" in statement, statement
            if uow._connection.dialect.name == "sqlite":
                rows = uow._connection.exec_driver_sql(
                    f"EXPLAIN QUERY PLAN {statement}", parameters
                )
            else:
                uow._connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
                rows = uow._connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plans[index] = " ".join(str(field) for row in rows for field in row)
    engine.dispose()

    for index, plan in plans.items():
        assert index in plan, plan

"""Filtered task listings stay keyset pages an index serves in order: the database walks an
index newest first and stops at the page's end, instead of sorting every match. Asked of the
database's own planner for the exact statement the repository runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from application.ports import Cursor, TaskQuery
from domain.task import TaskStatus
from domain.user import User
from tests.factories import T0, make_task, make_user
from tests.integration.persistence.units_of_work import NewUnitOfWork, save

OWNER = "owner"  # stands for the saved owner's id in the shapes below
WINDOW = {"created_after": T0, "created_before": T0 + timedelta(days=1)}
SHAPES: dict[str, dict[str, Any]] = {
    "a user's tasks by name": {"owner_id": OWNER, "name_contains": "report"},
    "a user's tasks in a window": {"owner_id": OWNER, **WINDOW},
    "a user's tasks by name and window, after a cursor": {
        "owner_id": OWNER,
        "name_contains": "report",
        **WINDOW,
        "after": Cursor(T0 + timedelta(hours=1), "00000000-0000-0000-0000-000000000000"),
    },
    "a user's tasks in one status and window": {
        "owner_id": OWNER,
        "status": TaskStatus.PENDING,
        **WINDOW,
    },
    "everyone's tasks by name and window (admin)": {"name_contains": "report", **WINDOW},
}


@contextmanager
def captured_selects(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def sorts_rows(engine: Engine, statement: str, parameters: Any) -> tuple[bool, str]:
    """Whether the planner sorts the matching rows, and the plan, for the message."""
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            return "TEMP B-TREE" in plan, plan
        # Make every alternative to an ordered index walk as costly as the planner allows:
        # if it still sorts, no index serves this order.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        plan = json.dumps(cursor.fetchone()[0])
        conn.rollback()
        return '"Node Type": "Sort"' in plan, plan


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_a_filtered_listing_is_read_in_index_order_not_sorted(
    engine: Engine, new_sql_uow: NewUnitOfWork, shape: str
) -> None:
    owner: User = save(new_sql_uow, make_user())
    save(new_sql_uow, *(make_task(user=owner, at=T0 + timedelta(minutes=n)) for n in range(20)))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE tasks"))
            conn.commit()
    fields = {k: owner.id if v == OWNER else v for k, v in SHAPES[shape].items()}

    with captured_selects(engine) as statements, new_sql_uow() as uow:
        uow.tasks.find(TaskQuery(**fields, limit=11))

    [(statement, parameters)] = statements
    sorted_, plan = sorts_rows(engine, statement, parameters)
    assert not sorted_, plan

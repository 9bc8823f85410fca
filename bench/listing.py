"""`GET /api/v1/tasks` with a million rows: seeded in SQL (INSERT ... SELECT over a generated
series, one statement), then timed one request at a time, first page and deep in the keyset."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine, select, text

from adapters.sqlalchemy.tables import TaskRow
from application.pagination import encode_cursor
from application.ports import Cursor
from bench.taskhub_client import TaskhubClient
from domain.user import User

USERS = 100
DEEP_ROW = 5000
BASE = datetime(2024, 1, 1, tzinfo=UTC)
# Every row completed, one second apart, owners taking turns.
_SQLITE = """
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :rows - 1)
INSERT INTO tasks (id, name, task_type, status, priority, args, kwargs, progress, created_at,
    started_at,
    completed_at, user_id, attempts, max_attempts, dispatched)
SELECT lower(hex(randomblob(16))), 'seeded', 'noop', 'completed', 'normal', '[]', '{}', 100,
       strftime('%Y-%m-%d %H:%M:%S', :base + n, 'unixepoch') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', :base + n, 'unixepoch') || '.000000',
       strftime('%Y-%m-%d %H:%M:%S', :base + n, 'unixepoch') || '.000000',
       owners.id, 1, 3, 1
FROM seq JOIN bench_owners AS owners ON owners.k = seq.n % :users
"""
_POSTGRES = """
INSERT INTO tasks (id, name, task_type, status, priority, args, kwargs, progress, created_at,
    started_at,
    completed_at, user_id, attempts, max_attempts, dispatched)
SELECT md5(random()::text || n)::uuid, 'seeded', 'noop', 'completed', 'normal', '[]', '{}',
       100, to_timestamp(:base + n), to_timestamp(:base + n), to_timestamp(:base + n),
       owners.id::uuid, 1, 3, true
FROM generate_series(0, :rows - 1) AS n JOIN bench_owners AS owners ON owners.k = n % :users
"""


def seed(client: TaskhubClient, rows: int) -> tuple[list[User], float]:
    """`rows` tasks across USERS new users; returns the users and the seconds it took."""
    users = [client.new_user("owner")[0] for _ in range(USERS)]
    engine: Engine = client.container.core.engine()
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE bench_owners (k INTEGER, id TEXT)"))
        owner_rows = [{"k": k, "id": _stored_id(engine, u)} for k, u in enumerate(users)]
        connection.execute(text("INSERT INTO bench_owners VALUES (:k, :id)"), owner_rows)
        sql = _POSTGRES if engine.dialect.name == "postgresql" else _SQLITE
        params = {"rows": rows, "users": USERS, "base": int(BASE.timestamp())}
        connection.execute(text(sql), params)
        connection.execute(text("DROP TABLE bench_owners"))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    return users, time.perf_counter() - started


def _stored_id(engine: Engine, user: User) -> str:
    return user.id.hex if engine.dialect.name == "sqlite" else str(user.id)


def deep_cursor(client: TaskhubClient, user: User, row: int) -> str:
    """The cursor a client holds after paging through `row` of the user's tasks."""
    statement = (
        select(TaskRow.created_at, TaskRow.id)
        .where(TaskRow.user_id == user.id)
        .order_by(TaskRow.created_at.desc(), TaskRow.id.desc())
        .offset(row - 1)
        .limit(1)
    )
    with client.container.core.engine().connect() as connection:
        created_at, task_id = connection.execute(statement).one()
    return encode_cursor(Cursor(created_at=created_at, id=str(task_id)))


def list_latencies(api: str, token: str, n: int, cursor: str | None = None) -> list[float]:
    """Milliseconds per GET of one page (the default size), one request at a time."""
    params = {"cursor": cursor} if cursor else {}
    headers = {"Authorization": f"Bearer {token}"}
    latencies = []
    with httpx.Client(base_url=api, headers=headers, trust_env=False) as http:
        for attempt in range(n + 10):  # the first ten warm up
            started = time.perf_counter()
            response = http.get("/api/v1/tasks", params=params)
            elapsed = (time.perf_counter() - started) * 1000
            response.raise_for_status()
            if not response.json()["items"]:
                raise RuntimeError("the listing came back empty")
            if attempt >= 10:
                latencies.append(elapsed)
    return latencies

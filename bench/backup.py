"""`python -m bench.backup [--tasks N]`: how long `taskhub backup create` and `restore` take
on a SQLite database of N finished tasks (default 1,000,000), each with a small result and a
sealed secret argument, as docs/operations.md quotes. Prints the figures; writes nothing but
a scratch directory, removed afterwards."""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import cast
from uuid import uuid4

from sqlalchemy import Table, insert

from adapters.sqlalchemy.backup import create_backup, restore_backup
from adapters.sqlalchemy.engine import create_database_engine
from adapters.sqlalchemy.mapping import task_values, user_values
from adapters.sqlalchemy.migrate import upgrade_database
from adapters.sqlalchemy.tables import TaskRow, UserRow
from domain.task import Task
from domain.user import Email, User

BATCH = 20_000


def fill(url: str, count: int) -> None:
    owner = User.register(email=Email("bench@example.com"), hashed_password="x" * 60, at=_now())
    template = Task.submit(
        name="sign artifact",
        task_type="file_signature",
        user_id=owner.id,
        at=_now(),
        kwargs={"path": "models/a.bin", "key": {"$sealed": "gAAAAA" + "x" * 114}},
    )
    values = task_values(template)
    values["status"] = "completed"
    values["result"] = {"path": "models/a.bin", "size": 1048576, "signature": "f" * 64}
    engine = create_database_engine(url)
    tasks = cast(Table, TaskRow.__table__)
    with engine.begin() as connection:
        connection.execute(insert(cast(Table, UserRow.__table__)), user_values(owner))
    done = 0
    while done < count:
        rows = [{**values, "id": uuid4()} for _ in range(min(BATCH, count - done))]
        with engine.begin() as connection:
            connection.execute(insert(tasks), rows)
        done += len(rows)
    engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        database = Path(scratch) / "taskhub.db"
        url = f"sqlite:///{database}"
        upgrade_database(url)
        started = time.monotonic()
        fill(url, options.tasks)
        print(f"filled {options.tasks} tasks in {time.monotonic() - started:.1f}s")
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print(f"database: {database.stat().st_size / 1e6:.0f} MB")
        report = create_backup(url, Path(scratch) / "taskhub.backup")
        print(f"backup create: {report.seconds:.1f}s, {report.size_bytes / 1e6:.0f} MB")
        seconds = restore_backup(url, report.path)
        print(f"backup restore: {seconds:.1f}s")


if __name__ == "__main__":
    main()

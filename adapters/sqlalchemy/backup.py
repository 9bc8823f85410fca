"""Backups of the database and their restore: SQLite through its online backup API (a
consistent copy while the system runs), PostgreSQL through pg_dump and pg_restore."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from adapters.sqlalchemy.engine import parse_database_url

# A backup waits this long for a writer's lock on SQLite before giving up.
SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


class BackupError(RuntimeError):
    """A backup or a restore could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    size_bytes: int
    seconds: float


def create_backup(database_url: str, path: Path) -> BackupReport:
    """A consistent copy of the database at `database_url` in `path` (replaced if there),
    taken while the system runs. The file appears only once it is complete."""
    url = parse_database_url(database_url)
    started = time.monotonic()
    partial = path.with_name(f".{path.name}.partial")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_file(url), partial)
        else:
            _run(
                url,
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    *_schema_of(url),
                    f"--file={partial}",
                    f"--dbname={_libpq(url)}",
                ],
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return BackupReport(path, path.stat().st_size, time.monotonic() - started)


def restore_backup(database_url: str, path: Path) -> float:
    """Replace the database at `database_url` with the backup in `path`; returns the
    seconds it took. Stop the API, the workers and Beat first."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup file")
    url = parse_database_url(database_url)
    started = time.monotonic()
    if url.get_backend_name() == "sqlite":
        _check_sqlite_backup(path)
        target = _sqlite_file(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(path, target)
    else:
        _run(
            url,
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *_schema_of(url),
                f"--dbname={_libpq(url)}",
                str(path),
            ],
        )
    return time.monotonic() - started


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup, in one step: it reads one snapshot (in WAL mode writers go on
    meanwhile), where a copy in steps would start over at each write made in between."""
    if not source.is_file():
        raise BackupError(f"{source}: no such database file")
    reader = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    writer = sqlite3.connect(target, timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    try:
        reader.backup(writer)
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite backup failed: {exc}") from exc
    finally:
        writer.close()
        reader.close()


def _check_sqlite_backup(path: Path) -> None:
    """A backup must be a whole SQLite database of taskhub's: refuse anything else before
    overwriting the live one."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            [(verdict,)] = db.execute("PRAGMA quick_check").fetchall()
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except (sqlite3.Error, ValueError) as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")
    if not {"tasks", "alembic_version"} <= tables:
        raise BackupError(f"{path} is not a taskhub database (no tasks table)")


def _libpq(url: URL) -> str:
    """The URL as libpq (pg_dump, pg_restore) reads it: no SQLAlchemy driver name, and no
    password (it goes in PGPASSWORD, not on a command line others can list)."""
    plain = url._replace(drivername="postgresql", password=None)
    plain = plain.difference_update_query(["options"])
    return plain.render_as_string(hide_password=False)


def _schema_of(url: URL) -> list[str]:
    """`--schema=NAME` when the URL sets a search_path of its own (`options=-csearch_path=`):
    taskhub's tables live there, and only there is dumped and restored."""
    options = url.query.get("options", "")
    if isinstance(options, tuple):
        options = " ".join(options)
    for option in options.split():
        if option.startswith("-csearch_path="):
            return [f"--schema={option.removeprefix('-csearch_path=').split(',')[0]}"]
    return []


def _run(url: URL, command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client tools)")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, arguments of our making
        command, capture_output=True, text=True, check=False, env=env
    )
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")

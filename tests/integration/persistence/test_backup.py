"""`taskhub backup create` and `restore` on SQLite and PostgreSQL (pg_dump and pg_restore on
a schema of the test database's own): the restored database is the one backed up, and its
pending tasks go back to the relay."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.task import RunToken, Task
from entrypoints.cli import app
from tests.factories import T0, make_task, make_user


def add_tasks(database_url: str, count: int, *, dispatched: bool = False) -> list[Task]:
    engine = create_database_engine(database_url)
    uow = SqlAlchemyUnitOfWork(create_connection_factory(engine))
    owner = make_user()
    tasks = [make_task(user=owner, task_type="noop") for _ in range(count)]
    with uow:
        uow.users.add(owner)
        for task in tasks:
            uow.tasks.add(task)
        uow.commit()
        if dispatched:
            uow.tasks.mark_dispatched([t.id for t in tasks], due_at=T0)
            uow.commit()
    engine.dispose()
    return tasks


def stored(database_url: str) -> dict[str, tuple[str, bool]]:
    engine = create_database_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, status, dispatched FROM tasks")).all()
    engine.dispose()
    return {str(row[0]).replace("-", ""): (row[1], bool(row[2])) for row in rows}


def invoke(database_url: str, monkeypatch: pytest.MonkeyPatch, *arguments: str) -> str:
    monkeypatch.setenv("TASKHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("TASKHUB_ENVIRONMENT", "test")
    result = CliRunner().invoke(app, list(arguments))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_restore_brings_back_the_database_as_backed_up_with_pending_tasks_for_the_relay(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = add_tasks(database_url, 5, dispatched=True)
    backup = tmp_path / "backups" / "taskhub.backup"

    created = invoke(database_url, monkeypatch, "backup", "create", str(backup))
    after = add_tasks(database_url, 3)
    restored = invoke(database_url, monkeypatch, "backup", "restore", "--yes", str(backup))

    assert "backup written" in created
    assert "5 pending task(s) handed to the relay" in restored
    rows = stored(database_url)
    assert set(rows) == {t.id.hex for t in before}
    assert not [t for t in after if t.id.hex in rows]
    assert all(row == ("pending", False) for row in rows.values())


def test_a_file_that_is_no_backup_is_refused_and_the_database_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.databases import migrated_database

    with migrated_database("sqlite", tmp_path) as url:
        tasks = add_tasks(url, 2)
        junk = tmp_path / "junk.backup"
        junk.write_text("not a database")
        monkeypatch.setenv("TASKHUB_DATABASE_URL", url)

        result = CliRunner().invoke(app, ["backup", "restore", "--yes", str(junk)])

        assert result.exit_code == 1
        assert "not a SQLite database" in result.output
        assert set(stored(url)) == {t.id.hex for t in tasks}


def test_a_running_task_restored_is_left_running_for_the_reaper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.databases import migrated_database

    with migrated_database("sqlite", tmp_path) as url:
        engine = create_database_engine(url)
        uow = SqlAlchemyUnitOfWork(create_connection_factory(engine))
        owner = make_user()
        task = make_task(user=owner, task_type="noop")
        with uow:
            uow.users.add(owner)
            uow.tasks.add(task)
            uow.commit()
        with uow:
            running = uow.tasks.get(task.id)
            running.start(run_token=RunToken("before-the-backup"), at=T0)
            uow.tasks.update(running)
            uow.commit()
        engine.dispose()
        backup = tmp_path / "b.backup"
        invoke(url, monkeypatch, "backup", "create", str(backup))
        restored = invoke(url, monkeypatch, "backup", "restore", "--yes", str(backup))

        assert "0 pending task(s)" in restored
        assert stored(url)[task.id.hex][0] == "running"

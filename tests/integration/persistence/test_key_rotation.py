"""`taskhub keys rotate` on a real database (SQLite and PostgreSQL): every sealed argument
and result re-encrypted under the newest key, in batches; the secret never in the database."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from adapters.security.fernet_cipher import FernetSecretCipher, new_key
from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.sealed_values import SqlAlchemySealedValueStore
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from application.secret_values import SEALED, SecretSealing, is_sealed
from domain.task import Task
from entrypoints.cli import app
from tests.factories import make_task, make_user

SECRET = "db-password-9c1e"


@pytest.fixture
def keys() -> tuple[str, str]:
    """(newest, older)"""
    return new_key(), new_key()


def stored_tasks(database_url: str, old_key: str, count: int) -> list[Task]:
    sealing = SecretSealing(FernetSecretCipher([old_key]))
    engine = create_database_engine(database_url)
    uow = SqlAlchemyUnitOfWork(create_connection_factory(engine))
    owner = make_user()
    tasks = []
    with uow:
        uow.users.add(owner)
        for n in range(count):
            task = make_task(user=owner, task_type="file_signature")
            task.kwargs = {"path": f"f{n}", "key": {SEALED: sealing.cipher.encrypt(SECRET)}}
            tasks.append(task)
            uow.tasks.add(task)
        plain = make_task(user=owner, task_type="noop")
        uow.tasks.add(plain)
        uow.commit()
    engine.dispose()
    return tasks


def test_rotation_re_encrypts_every_stored_secret_under_the_newest_key(
    database_url: str, keys: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    new, old = keys
    stored_tasks(database_url, old, 7)
    monkeypatch.setenv("TASKHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("TASKHUB_ENVIRONMENT", "test")
    monkeypatch.setenv("TASKHUB_ENCRYPTION_KEYS", f"{new},{old}")

    result = CliRunner().invoke(app, ["keys", "rotate", "--batch-size", "3"])

    assert result.exit_code == 0, result.output
    assert "7 tasks" in result.output
    engine = create_database_engine(database_url)
    found = SqlAlchemySealedValueStore(engine).sealed_after(None, 100)
    with engine.connect() as connection:
        dumped = [row[0] for row in connection.execute(text("SELECT kwargs FROM tasks"))]
    engine.dispose()
    newest_only = FernetSecretCipher([new])
    assert len(found) == 7
    for values in found:
        assert is_sealed(values.kwargs["key"])
        assert newest_only.decrypt(values.kwargs["key"][SEALED]) == SECRET
    assert not [d for d in dumped if SECRET in (d if isinstance(d, str) else json.dumps(d))]


def test_rotation_with_the_old_key_missing_stops_and_says_why(
    database_url: str, keys: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    new, old = keys
    stored_tasks(database_url, old, 2)
    monkeypatch.setenv("TASKHUB_DATABASE_URL", database_url)
    monkeypatch.setenv("TASKHUB_ENVIRONMENT", "test")
    monkeypatch.setenv("TASKHUB_ENCRYPTION_KEYS", new)

    result = CliRunner().invoke(app, ["keys", "rotate"])

    assert result.exit_code == 1
    assert "no configured encryption key opens it" in result.output

"""The `taskhub` command, run as an operator would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.sqlalchemy.engine import create_connection_factory, create_database_engine
from adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from domain.user import Email

COMMANDS = [
    [],
    ["db"],
    ["db", "upgrade"],
    ["users", "create-admin"],
    ["api"],
    ["worker"],
    ["beat"],
    ["flower"],
    ["dev"],
]


def taskhub(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "entrypoints.cli", *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TASKHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'taskhub.db'}",
        "TASKHUB_DATA_DIR": str(tmp_path),
    }


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "taskhub")
def test_every_command_has_help(command: list[str], env: dict[str, str]) -> None:
    result = taskhub(*command, "--help", env=env)

    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_db_upgrade_then_create_admin_makes_a_usable_administrator(
    env: dict[str, str], tmp_path: Path
) -> None:
    upgraded = taskhub("db", "upgrade", env=env)
    created = taskhub(
        "users",
        "create-admin",
        "--email",
        "Ops@Example.com",
        env={**env, "TASKHUB_ADMIN_PASSWORD": "a long password"},
    )

    assert upgraded.returncode == 0, upgraded.stderr
    assert created.returncode == 0, created.stderr
    engine = create_database_engine(env["TASKHUB_DATABASE_URL"])
    uow = SqlAlchemyUnitOfWork(create_connection_factory(engine))
    with uow:
        admin = uow.users.find_by_email(Email("ops@example.com"))
    engine.dispose()
    assert admin is not None
    assert admin.is_admin


def test_create_admin_refuses_a_weak_password_with_a_message(env: dict[str, str]) -> None:
    taskhub("db", "upgrade", env=env)

    result = taskhub(
        "users",
        "create-admin",
        "--email",
        "ops@example.com",
        env={**env, "TASKHUB_ADMIN_PASSWORD": "short"},
    )

    assert result.returncode == 1
    assert "at least 8 characters" in result.stderr


PRODUCTION_KEY = "cli-tests-Zq8wX3vT1pL6yR2mN7kB4hJ9fD5sA0"


def test_production_settings_without_a_secret_refuse_to_start(env: dict[str, str]) -> None:
    without_key = {k: v for k, v in env.items() if k != "TASKHUB_SECRET_KEY"}
    result = taskhub("db", "upgrade", env={**without_key, "TASKHUB_ENVIRONMENT": "production"})

    assert result.returncode == 2
    assert "TASKHUB_SECRET_KEY is required in production" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_refuses_a_low_entropy_secret_padded_to_length(env: dict[str, str]) -> None:
    weak = {"TASKHUB_ENVIRONMENT": "production", "TASKHUB_SECRET_KEY": "s" * 40}
    result = taskhub("db", "upgrade", env={**env, **weak})

    assert result.returncode == 2
    assert "too little entropy" in result.stderr


def test_flower_refuses_production_without_basic_auth(env: dict[str, str]) -> None:
    production = {"TASKHUB_ENVIRONMENT": "production", "TASKHUB_SECRET_KEY": PRODUCTION_KEY}
    result = taskhub("flower", env={**env, **production})

    assert result.returncode == 2
    assert "TASKHUB_FLOWER_BASIC_AUTH" in result.stderr


@pytest.mark.parametrize("command", ["worker", "api", "beat"])
def test_production_without_the_encryption_key_refuses_to_start_naming_the_secret_task_types(
    command: str, env: dict[str, str]
) -> None:
    production = {"TASKHUB_ENVIRONMENT": "production", "TASKHUB_SECRET_KEY": PRODUCTION_KEY}
    result = taskhub(command, env={**env, **production})

    assert result.returncode == 2
    assert "TASKHUB_ENCRYPTION_KEYS is required in production" in result.stderr
    assert "file_signature" in result.stderr

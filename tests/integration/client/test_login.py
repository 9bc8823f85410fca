"""`taskhub login` and `logout`: a private token file, and clear messages when it cannot work."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from typer.testing import CliRunner

from entrypoints.cli import app
from entrypoints.client import credentials
from tests.integration.client.conftest import PASSWORD, Api, Cli, no_traceback
from tests.support.redis_server import free_port


def test_login_stores_the_token_in_a_file_only_the_user_can_read(
    cli: Cli, api: Api, email: str
) -> None:
    result = cli.run("login", "--email", email, TASKHUB_PASSWORD=PASSWORD)

    assert result.returncode == 0, result.stderr
    path = cli.config_dir / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cli.config_dir.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert stored["url"] == api.url
    assert datetime.fromisoformat(stored["expires_at"]) > datetime.now(UTC)
    assert stored["access_token"] not in result.stdout + result.stderr
    me = httpx.get(
        f"{api.url}/api/v1/users/me",
        headers={"Authorization": f"Bearer {stored['access_token']}"},
        trust_env=False,
    )
    assert me.json()["email"] == email


Store = Callable[[str, str, datetime], None]


@pytest.fixture
def store(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Store:
    """Writes a login through the client's own writer, into this test's config directory."""

    def write(url: str, token: str, expires_at: datetime) -> None:
        monkeypatch.setenv(credentials.CONFIG_DIR_ENV, str(cli.config_dir))
        credentials.save(credentials.Credentials(url, token, expires_at))

    return write


def test_without_an_override_the_login_goes_to_the_users_config_directory(
    cli: Cli, email: str
) -> None:
    env = {k: v for k, v in cli.env.items() if k != "TASKHUB_CLIENT_CONFIG_DIR"}
    home_cli = Cli(env=env, config_dir=cli.config_dir)

    result = home_cli.run("login", "--email", email, TASKHUB_PASSWORD=PASSWORD)

    assert result.returncode == 0, result.stderr
    path = cli.config_dir.parents[1] / "home" / ".config" / "taskhub" / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert home_cli.run("tasks", "list").returncode == 0


def test_the_password_is_prompted_for_without_being_echoed(cli: Cli, email: str) -> None:
    runner = CliRunner()

    result = runner.invoke(app, ["login", "--email", email], input=f"{PASSWORD}\n", env=cli.env)

    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert PASSWORD not in result.output


def test_a_wrong_password_exits_1_with_the_problem_detail(cli: Cli, email: str) -> None:
    result = cli.run("login", "--email", email, TASKHUB_PASSWORD="not the password")

    assert result.returncode == 1
    assert "incorrect email or password" in result.stderr
    assert no_traceback(result)
    assert not (cli.config_dir / "credentials.json").exists()


def test_logout_deletes_the_token_and_later_commands_ask_to_log_in(logged_in: Cli) -> None:
    logged_out = logged_in.run("logout")
    listed = logged_in.run("tasks", "list")

    assert logged_out.returncode == 0
    assert not (logged_in.config_dir / "credentials.json").exists()
    assert listed.returncode == 1
    assert "not logged in: run `taskhub login`" in listed.stderr
    assert no_traceback(listed)


def test_without_a_stored_token_commands_say_to_log_in(cli: Cli) -> None:
    result = cli.run("tasks", "list")

    assert result.returncode == 1
    assert "run `taskhub login`" in result.stderr
    assert no_traceback(result)


def test_an_expired_token_says_to_log_in_again(cli: Cli, api: Api, store: Store) -> None:
    store(api.url, "expired", datetime.now(UTC) - timedelta(minutes=5))

    result = cli.run("tasks", "get", "00000000-0000-0000-0000-000000000000")

    assert result.returncode == 1
    assert "expired" in result.stderr
    assert "run `taskhub login`" in result.stderr


def test_a_token_the_api_refuses_says_to_log_in_again(cli: Cli, api: Api, store: Store) -> None:
    store(api.url, "forged", datetime.now(UTC) + timedelta(hours=1))

    result = cli.run("tasks", "list")

    assert result.returncode == 1
    assert "HTTP 401" in result.stderr
    assert "run `taskhub login` again" in result.stderr


def test_an_api_that_is_down_is_named_in_a_clear_message(
    cli: Cli, email: str, store: Store
) -> None:
    down = f"http://127.0.0.1:{free_port()}"

    login = cli.run("login", "--url", down, "--email", email, TASKHUB_PASSWORD=PASSWORD)
    store(down, "token", datetime.now(UTC) + timedelta(hours=1))
    listed = cli.run("tasks", "list")

    for result in (login, listed):
        assert result.returncode == 1
        assert f"cannot reach the taskhub API at {down}" in result.stderr
        assert no_traceback(result)


def test_logging_in_over_a_readable_old_file_leaves_a_private_one(cli: Cli, email: str) -> None:
    cli.config_dir.mkdir(parents=True)
    old = cli.config_dir / "credentials.json"
    old.write_text("{}")
    old.chmod(0o644)

    result = cli.run("login", "--email", email, TASKHUB_PASSWORD=PASSWORD)

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert [p.name for p in cli.config_dir.iterdir()] == ["credentials.json"]


def test_an_unreadable_stored_login_says_to_log_in_again(cli: Cli) -> None:
    cli.config_dir.mkdir(parents=True)
    (cli.config_dir / "credentials.json").write_text("not json")

    result = cli.run("tasks", "list")

    assert result.returncode == 1
    assert "unreadable: run `taskhub login`" in result.stderr
    assert no_traceback(result)

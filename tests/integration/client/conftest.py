"""One API and one worker for the whole package; each test gets a fresh account and home."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import redis

from tests.integration.client.stack import (
    ROOT,
    child_env,
    running_worker,
    serving_api,
    settings_env,
)
from tests.support.databases import migrated_database
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

PASSWORD = "analytical engine"
CLI_TIMEOUT = 60.0


@dataclass(frozen=True)
class Api:
    url: str
    files: Path  # the workers' files area (TASKHUB_FILES_ROOT)

    def register(self) -> str:
        """A new account's email; its password is PASSWORD."""
        email = f"client-{uuid4().hex[:10]}@example.com"
        with httpx.Client(base_url=f"{self.url}/api/v1", trust_env=False, timeout=10) as http:
            response = http.post("/auth/register", json={"email": email, "password": PASSWORD})
        assert response.status_code == 202, response.text
        return email

    def user_id(self, email: str) -> str:
        with httpx.Client(base_url=f"{self.url}/api/v1", trust_env=False, timeout=10) as http:
            token = http.post("/auth/token", data={"username": email, "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            user_id: str = http.get("/users/me", headers=headers).json()["id"]
        return user_id


@dataclass(frozen=True)
class Cli:
    """The `taskhub` command run as a user would, in a subprocess, with a home of its own."""

    env: dict[str, str]
    config_dir: Path

    def run(self, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "entrypoints.cli", *args],
            env={**self.env, **env},
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT,
            check=False,
        )

    @contextmanager
    def start(self, *args: str) -> Iterator[subprocess.Popen[str]]:
        """The command running in the background; killed on the way out if still running."""
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "entrypoints.cli", *args],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            process.communicate()


@pytest.fixture(scope="package")
def api(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """The API on a migrated SQLite file, and a worker on the same database and broker."""
    directory = tmp_path_factory.mktemp("client-stack")
    with redis.Redis.from_url(redis_url) as broker:
        broker.flushdb()  # nothing another suite left queued reaches this worker
    with migrated_database("sqlite", directory) as database_url:
        env = settings_env(database_url, redis_url, directory)
        with serving_api(env) as url, running_worker(env, directory / "worker.log"):
            yield Api(url, files=directory / "files")


@pytest.fixture
def cli(api: Api, tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    config_dir = tmp_path / "config" / "taskhub"
    env = child_env(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        TASKHUB_CLIENT_CONFIG_DIR=str(config_dir),
        TASKHUB_API_URL=api.url,
    )
    return Cli(env=env, config_dir=config_dir)


@pytest.fixture
def email(api: Api) -> str:
    return api.register()


@pytest.fixture
def logged_in(cli: Cli, email: str) -> Cli:
    result = cli.run("login", "--email", email, TASKHUB_PASSWORD=PASSWORD)
    assert result.returncode == 0, result.stderr
    return cli


def no_traceback(result: subprocess.CompletedProcess[str]) -> bool:
    return "Traceback" not in result.stdout + result.stderr

"""A real API and worker for the docs' end-to-end tests (`python -m entrypoints.cli api|worker`),
on a migrated SQLite database and the test Redis. Every process started here is stopped on the
way out, whatever happened."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx

from tests.support.redis_server import HOST, free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "docs-e2e-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
STARTUP_TIMEOUT = 60.0
RUN_TIMEOUT = 60.0  # includes the worker's start-up: the task waits in Redis until then
STOP_TIMEOUT = 10.0
TERMINAL = {"completed", "failed", "cancelled"}
T = TypeVar("T")


def stack_env(tmp_path: Path, database_url: str, redis_url: str, **settings: str) -> dict[str, str]:
    """The processes' environment: this one's without its TASKHUB_* settings (a developer's
    own must not leak in), then the stack's, then `settings` (TASKHUB_TASK_MODULES=...)."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    return {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "TASKHUB_ENVIRONMENT": "test",
        "TASKHUB_DATABASE_URL": database_url,
        "TASKHUB_BROKER_URL": redis_url,
        "TASKHUB_SECRET_KEY": SECRET_KEY,
        "TASKHUB_BCRYPT_ROUNDS": "4",
        "TASKHUB_API_HOST": HOST,
        "TASKHUB_WORKER_CONCURRENCY": "1",
        "TASKHUB_WORKER_METRICS_PORT": "0",
        "TASKHUB_WORKER_METRICS_ADDRESS": HOST,
        "TASKHUB_DATA_DIR": str(tmp_path / "data"),
        "TASKHUB_FILES_ROOT": str(tmp_path / "files"),
        "TASKHUB_PROGRESS_INTERVAL_SECONDS": "0.1",
        **settings,
    }


class Server:
    """`python -m entrypoints.cli ARGS` in a session of its own, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], directory: Path) -> None:
        self.name = name
        self.url = ""
        self.log_path = directory / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "entrypoints.cli", *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        # WNOWAIT: learn whether it exited without reaping it, so its group stays ours.
        found = os.waitid(os.P_PID, self.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return found is None

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"----- {self.name} -----\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to the whole group (a worker's pool children too), then reap."""
        if self.running:
            self.process.terminate()
            deadline = time.monotonic() + STOP_TIMEOUT
            while self.running and time.monotonic() < deadline:
                time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def servers(env: dict[str, str], directory: Path) -> Iterator[dict[str, Server]]:
    started: dict[str, Server] = {}
    try:
        port = free_port()
        started["api"] = Server("api", ["api", "--port", str(port)], env, directory)
        started["api"].url = f"http://{HOST}:{port}/api/v1"
        started["worker"] = Server("worker", ["worker"], env, directory)
        yield started
    finally:
        for server in started.values():
            server.stop()


def poll(until: Callable[[], T | None], *, timeout: float, what: str, logs: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = until()
        if value is not None:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs()}")


def wait_until_ready(http: httpx.Client, started: dict[str, Server]) -> str:
    """The API's base URL, once it answers /health/ready."""
    api = started["api"].url

    def ready() -> bool | None:
        if not started["api"].running:
            raise AssertionError(f"the API exited while starting\n{logs(started)}")
        with contextlib.suppress(httpx.TransportError):
            return http.get(f"{api}/health/ready").status_code == 200 or None
        return None

    poll(
        ready,
        timeout=STARTUP_TIMEOUT,
        what="the API to answer /health/ready",
        logs=lambda: logs(started),
    )
    return api


def logs(started: dict[str, Server]) -> str:
    return "\n".join(server.tail() for server in started.values())


def log_in(http: httpx.Client, api: str) -> dict[str, str]:
    account = {"email": "ada@example.com", "password": "analytical engine"}
    registered = http.post(f"{api}/auth/register", json=account)
    assert registered.status_code == 202, registered.text
    token = http.post(
        f"{api}/auth/token", data={"username": account["email"], "password": account["password"]}
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}

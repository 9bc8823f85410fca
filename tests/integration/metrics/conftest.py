"""A real worker (prefork, two pool processes) and a real API (two uvicorn workers), each in
prometheus-client multiprocess mode, on a migrated SQLite file and a Redis database of their
own; every process is stopped on the way out, whatever happened."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.api_client import wait_until
from tests.e2e.broker import leased_redis_database
from tests.e2e.process import ManagedProcess
from tests.support.databases import migrated_database
from tests.support.redis_server import HOST, free_port
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

ROOT = Path(__file__).resolve().parents[3]
STARTUP_TIMEOUT = 60.0
SECRET_KEY = "metrics-test-only-secret-key-0123456789abcdefghijkl"


@dataclass
class Deployment:
    api_url: str
    worker_metrics_url: str
    database_url: str
    processes: list[ManagedProcess]

    def log_report(self, lines: int = 60) -> str:
        return "\n".join(
            f"----- {p.name} (pid {p.pid}; {p.log_path}) -----\n{p.tail(lines)}"
            for p in self.processes
        )


@pytest.fixture
def deployment(tmp_path: Path, redis_url: str) -> Iterator[Deployment]:
    api_port, metrics_port = free_port(), free_port()
    with (
        migrated_database("sqlite", tmp_path) as database_url,
        # A database of the Redis server no other test run consumes or flushes meanwhile.
        leased_redis_database(redis_url) as broker_url,
    ):
        env = _env(tmp_path, database_url=database_url, broker_url=broker_url)
        worker_dir = tmp_path / "worker-metrics"
        _leave_a_stale_count(worker_dir, env)
        found = Deployment(
            api_url=f"http://{HOST}:{api_port}",
            worker_metrics_url=f"http://{HOST}:{metrics_port}/metrics",
            database_url=database_url,
            processes=[],
        )
        try:
            worker_env = {
                "TASKHUB_WORKER_CONCURRENCY": "2",
                # low_priority is left unconsumed, so its queue depth is known.
                "TASKHUB_WORKER_QUEUES": "high_priority,default",
                "TASKHUB_WORKER_METRICS_PORT": str(metrics_port),
                "TASKHUB_WORKER_METRICS_ADDRESS": HOST,
                "PROMETHEUS_MULTIPROC_DIR": str(worker_dir),
            }
            _spawn(found, "worker", ["worker"], {**env, **worker_env}, tmp_path)
            api_env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "api-metrics")}
            api_command = ["api", "--port", str(api_port), "--workers", "2"]
            _spawn(found, "api", api_command, {**env, **api_env}, tmp_path)
            _wait_until_answering(found, found.worker_metrics_url)
            _wait_until_answering(found, f"{found.api_url}/api/v1/health/live")
            yield found
        finally:
            for process in found.processes:
                process.terminate()
            for process in found.processes:
                process.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[Any]:
    report = yield
    deployment = getattr(item, "funcargs", {}).get("deployment")
    if report.failed and isinstance(deployment, Deployment):
        report.sections.append(("process logs (tails)", deployment.log_report()))
    return report


def _env(tmp_path: Path, *, database_url: str, broker_url: str) -> dict[str, str]:
    # The developer's own settings must not leak into the processes.
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("TASKHUB_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    return {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "TASKHUB_ENVIRONMENT": "test",
        "TASKHUB_DATABASE_URL": database_url,
        "TASKHUB_BROKER_URL": broker_url,
        "TASKHUB_SECRET_KEY": SECRET_KEY,
        "TASKHUB_BCRYPT_ROUNDS": "4",
        "TASKHUB_DATA_DIR": str(tmp_path / "data"),
        "TASKHUB_TASK_MODULES": "tests.integration.metrics.task_types",
        "TASKHUB_CANCEL_POLL_INTERVAL_SECONDS": "0.1",
        "TASKHUB_PROGRESS_INTERVAL_SECONDS": "0.1",
    }


def _leave_a_stale_count(directory: Path, env: dict[str, str]) -> None:
    """What a previous run of the worker left behind, which it must not count again."""
    directory.mkdir()
    script = (
        "from prometheus_client import Counter\n"
        "Counter('taskhub_tasks_started', '', ('task_type', 'queue'))"
        ".labels('countdown', 'default').inc(100)\n"
    )
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        env={**env, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        check=True,
    )
    assert list(directory.glob("counter_*.db"))


def _spawn(
    deployment: Deployment, name: str, arguments: list[str], env: dict[str, str], logs: Path
) -> None:
    deployment.processes.append(
        ManagedProcess(
            name,
            [sys.executable, "-m", "entrypoints.cli", *arguments],
            env=env,
            cwd=ROOT,
            log_path=logs / f"{name}.log",
        )
    )


def _wait_until_answering(deployment: Deployment, url: str) -> None:
    def answers() -> bool:
        for process in deployment.processes:
            if not process.running:
                raise AssertionError(f"{process.name} exited while starting:\n{process.tail()}")
        try:
            return httpx.get(url, timeout=2, trust_env=False).status_code == 200
        except httpx.TransportError:
            return False

    wait_until(answers, timeout=STARTUP_TIMEOUT, what=f"{url} to answer", interval=0.2)

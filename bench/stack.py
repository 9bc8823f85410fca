"""Starting the systems under test: taskhub's API and worker as a user would
(`python -m entrypoints.cli ...`), and the reference app and raw Celery worker beside them."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.environment import Broker
from bench.processes import HOST, Process, Processes, free_port

ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
# Redis databases, each system its own: what is queued for one no other worker can take.
TASKHUB_DB, TASKHUB_STAGING_DB, REFERENCE_DB, REFERENCE_STAGING_DB = 0, 1, 2, 3
WORKER_READY = "ready."
SCHEDULER_READY = "scheduler loop started"
CONCURRENCY = 2


@dataclass(frozen=True)
class Systems:
    database_url: str
    broker: Broker
    processes: Processes
    urls: dict[str, str] = field(default_factory=dict)  # of the APIs started, by name

    def taskhub_env(self, *, broker_db: int = TASKHUB_DB) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
        return {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "TASKHUB_ENVIRONMENT": "test",
            "TASKHUB_DATABASE_URL": self.database_url,
            "TASKHUB_BROKER_URL": self.broker.url(broker_db),
            "TASKHUB_SECRET_KEY": SECRET_KEY,
            "TASKHUB_BCRYPT_ROUNDS": "4",
            "TASKHUB_DATA_DIR": str(self.processes.directory / "data"),
            # Benchmark users queue far more than a real user's quota allows.
            "TASKHUB_MAX_ACTIVE_TASKS_PER_USER": str(10**9),
            # No port to clash over; without PROMETHEUS_MULTIPROC_DIR it would serve nothing.
            "TASKHUB_WORKER_METRICS_PORT": "0",
        }

    def reference_env(self, *, broker_db: int = REFERENCE_DB) -> dict[str, str]:
        return {
            **self.taskhub_env(),
            "BENCH_REFERENCE_DATABASE_URL": self.database_url,
            "BENCH_REFERENCE_BROKER_URL": self.broker.url(broker_db),
        }

    def start_taskhub_api(self) -> tuple[Process, str]:
        port = free_port()
        command = [sys.executable, "-m", "entrypoints.cli", "api", "--port", str(port)]
        process = self.processes.start("taskhub-api", command, self.taskhub_env())
        url = f"http://{HOST}:{port}"
        process.wait_for_http(f"{url}/api/v1/health/live")
        self.urls[process.name] = url
        return process, url

    def start_reference_api(self) -> tuple[Process, str]:
        port = free_port()
        command = [sys.executable, "-m", "bench.reference.web", "--port", str(port)]
        process = self.processes.start("reference-api", command, self.reference_env())
        url = f"http://{HOST}:{port}"
        process.wait_for_http(f"{url}/health")
        self.urls[process.name] = url
        return process, url

    def start_taskhub_worker(self, **extra_env: str) -> Process:
        command = [sys.executable, "-m", "entrypoints.cli", "worker"]
        command += ["--concurrency", str(CONCURRENCY)]
        env = {**self.taskhub_env(), **extra_env}
        process = self.processes.start("taskhub-worker", command, env)
        process.wait_for_log(WORKER_READY)
        return process

    def start_reference_worker(self) -> Process:
        command = [sys.executable, "-m", "celery", "-A", "bench.reference.worker", "worker"]
        command += ["--pool=prefork", f"--concurrency={CONCURRENCY}", "--prefetch-multiplier=1"]
        command += ["--without-mingle", "--loglevel=INFO"]
        process = self.processes.start("reference-worker", command, self.reference_env())
        process.wait_for_log(WORKER_READY)
        return process

    def start_taskhub_scheduler(self) -> Process:
        """`taskhub scheduler`: publishes delayed tasks when due (alone: it holds the lease)."""
        command = [sys.executable, "-m", "entrypoints.cli", "scheduler"]
        process = self.processes.start("taskhub-scheduler", command, self.taskhub_env())
        process.wait_for_log(SCHEDULER_READY)
        return process

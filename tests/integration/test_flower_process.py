"""`taskhub flower` as an operator runs it: weak credentials refused, /metrics behind them."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.api_client import wait_until
from tests.e2e.process import ManagedProcess
from tests.support.redis_server import HOST, free_port
from tests.support.redis_server import redis_url as redis_url  # fixture, re-exported

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = "ops:a-long-enough-flower-password"


def flower_env(redis_url: str, tmp_path: Path, basic_auth: str) -> dict[str, str]:
    return {
        **os.environ,
        "TASKHUB_ENVIRONMENT": "test",
        "TASKHUB_BROKER_URL": redis_url,
        "TASKHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'taskhub.db'}",
        "TASKHUB_DATA_DIR": str(tmp_path),
        "TASKHUB_FLOWER_BASIC_AUTH": basic_auth,
    }


@pytest.mark.parametrize("weak", ["admin:", ":", "admin:short-password"])
def test_flower_refuses_to_start_with_weak_credentials(
    redis_url: str, tmp_path: Path, weak: str
) -> None:
    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "entrypoints.cli", "flower", "--port", str(free_port())],
        env=flower_env(redis_url, tmp_path, weak),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "TASKHUB_FLOWER_BASIC_AUTH refused" in result.stderr


@pytest.fixture
def flower_url(redis_url: str, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = ManagedProcess(
        "flower",
        [sys.executable, "-m", "entrypoints.cli", "flower", "--port", str(port)],
        env=flower_env(redis_url, tmp_path, CREDENTIALS),
        cwd=ROOT,
        log_path=tmp_path / "flower.log",
    )
    url = f"http://{HOST}:{port}"

    def answers() -> bool:
        if not process.running:
            raise AssertionError(f"Flower exited while starting:\n{process.tail()}")
        try:
            return httpx.get(f"{url}/healthcheck", timeout=5, trust_env=False).is_success
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, timeout=60, what="Flower to answer")
        yield url
    finally:
        process.stop()


def test_flowers_metrics_need_the_basic_auth_credentials(flower_url: str) -> None:
    login = base64.b64encode(CREDENTIALS.encode()).decode()

    anonymous = httpx.get(f"{flower_url}/metrics", timeout=5, trust_env=False)
    logged_in = httpx.get(
        f"{flower_url}/metrics",
        headers={"Authorization": f"Basic {login}"},
        timeout=5,
        trust_env=False,
    )

    assert anonymous.status_code == 401
    assert logged_in.status_code == 200
    assert "flower_" in logged_in.text

"""Each process imports what it runs: the API process none of the worker's code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from entrypoints.unused_integrations import UNUSED_INTEGRATIONS
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]

# The worker's Celery binding, watchdog and Prometheus run observer, the worker's and Beat's
# containers, and Celery's own worker and Beat machinery.
WORKER_MODULES = (
    "entrypoints.worker",
    "entrypoints.worker_container",
    "entrypoints.beat_container",
    "celery.worker",
    "celery.apps.worker",
    "celery.beat",
)


def process_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A process of its own on a new SQLite file and the in-memory broker."""
    return {
        **os.environ,
        "TASKHUB_ENVIRONMENT": "test",
        "TASKHUB_SECRET_KEY": "a-test-secret-key-that-is-long-enough-0123456789",
        "TASKHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'taskhub.db'}",
        "TASKHUB_BROKER_URL": "memory://",
        "TASKHUB_DATA_DIR": str(tmp_path),
        **settings,
    }


def run_script(
    script: str, *arguments: str, env: dict[str, str], check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", script, *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def unused_integrations_loaded(loaded: list[str]) -> list[str]:
    """What of the unused integrations the process loaded, once it has loaded the packages
    that look for them (it must have, or the check would prove nothing)."""
    assert set(UNUSED_INTEGRATIONS) <= set(loaded)
    integrations = [name for names in UNUSED_INTEGRATIONS.values() for name in names]
    return sorted(name for name in integrations if name in loaded)


def top_level_packages(loaded: list[str], among: tuple[str, ...]) -> list[str]:
    return sorted({name.split(".")[0] for name in loaded} & set(among))


SERVE_ONE_REQUEST = """
import json, sys
from fastapi.testclient import TestClient
from entrypoints.http.app import create_app
with TestClient(create_app()) as client:
    assert client.get("/api/v1/health/live").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
print(json.dumps(sorted(sys.modules)))
"""


def test_the_api_process_serves_without_importing_any_worker_module(tmp_path: Path) -> None:
    completed = run_script(SERVE_ONE_REQUEST, env=process_env(tmp_path))
    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "entrypoints.http.app" in loaded  # the app was really built
    worker_code = [
        name
        for name in loaded
        if any(name == module or name.startswith(f"{module}.") for module in WORKER_MODULES)
    ]
    assert worker_code == []


# `taskhub api` as a user starts it, its modules listed once it answers, then stopped. The
# probe uses urllib: httpx is one of the packages the server must not have imported.
SERVE_FROM_THE_COMMAND_LINE = """
import json, os, signal, sys, threading, time, urllib.request
from entrypoints.cli import main

def list_modules_once_live():
    url = "http://127.0.0.1:" + sys.argv[1] + "/api/v1/health/live"
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    print(json.dumps(sorted(sys.modules)), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=list_modules_once_live, daemon=True).start()
sys.argv = ["taskhub", "api", "--host", "127.0.0.1", "--port", sys.argv[1]]
main()
"""

# The REST client's HTTP library and terminal rendering (httpx, rich, and pygments through
# them), and the WebSocket implementation uvicorn would load for an API that serves none.
CLIENT_AND_WEBSOCKET_PACKAGES = ("httpx", "rich", "pygments", "websockets", "wsproto")


def test_the_api_process_serves_without_the_client_or_websocket_packages(tmp_path: Path) -> None:
    port = free_port()
    completed = run_script(
        SERVE_FROM_THE_COMMAND_LINE, str(port), env=process_env(tmp_path), check=False
    )
    # uvicorn ends on SIGTERM by raising it again once it has shut down.
    assert completed.returncode in (0, -signal.SIGTERM), completed.stderr
    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "entrypoints.http.app" in loaded  # the app was really built and served
    assert top_level_packages(loaded, CLIENT_AND_WEBSOCKET_PACKAGES) == []
    assert unused_integrations_loaded(loaded) == []


# `taskhub worker` as a user starts it, its modules listed once it is ready, then stopped.
RUN_A_WORKER_FROM_THE_COMMAND_LINE = """
import json, os, signal, sys
from celery.signals import worker_ready
from entrypoints.cli import main

@worker_ready.connect
def list_modules(**_):
    print(json.dumps(sorted(sys.modules)), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

sys.argv = ["taskhub", "worker", "--concurrency", "1"]
main()
"""

# Celery's command line loads every subcommand: the interactive shell's (click_repl,
# prompt_toolkit) and Flower's plugin (flower, tornado), none of which a worker runs.
CELERY_COMMAND_LINE_PACKAGES = ("click_repl", "prompt_toolkit", "flower", "tornado")


def test_the_worker_runs_without_celerys_command_line_packages(tmp_path: Path) -> None:
    env = process_env(tmp_path, TASKHUB_WORKER_METRICS_PORT="0")
    completed = run_script(RUN_A_WORKER_FROM_THE_COMMAND_LINE, env=env)
    # Celery prints its banner and its shutdown around the list.
    listed = [line for line in completed.stdout.splitlines() if line.startswith('["')]
    loaded = json.loads(listed[-1])
    assert "celery.apps.worker" in loaded  # a worker really started
    assert top_level_packages(loaded, CELERY_COMMAND_LINE_PACKAGES) == []
    assert unused_integrations_loaded(loaded) == []


IMPORT_THE_PACKAGES_THEN_THEIR_INTEGRATIONS = """
import sys
from entrypoints.unused_integrations import import_without_unused_integrations
import_without_unused_integrations()
from redis.observability import providers
from dependency_injector import wiring
print(providers.OTEL_AVAILABLE, "werkzeug" in sys.modules)
import opentelemetry.sdk.metrics, werkzeug.local
print(opentelemetry.sdk.metrics.MeterProvider.__name__, werkzeug.local.LocalProxy.__name__)
"""


def test_the_packages_go_without_their_unused_integrations_which_stay_importable(
    tmp_path: Path,
) -> None:
    completed = run_script(IMPORT_THE_PACKAGES_THEN_THEIR_INTEGRATIONS, env=process_env(tmp_path))

    assert completed.stdout.split() == ["False", "False", "MeterProvider", "LocalProxy"]

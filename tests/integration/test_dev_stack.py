"""`taskhub dev` as a user runs it: it starts everything, reports a dead child, refuses busy
ports with a clear message, and leaves nothing behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from adapters.celery.dispatcher import EPOCH_KEY
from tests.support.redis_server import free_port


def dev_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TASKHUB_DATA_DIR": str(tmp_path / "data"),
        "TASKHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'taskhub.db'}",
        "TASKHUB_API_PORT": str(free_port()),
        "TASKHUB_FLOWER_PORT": str(free_port()),
        "TASKHUB_DEV_REDIS_PORT": str(free_port()),
        "TASKHUB_WORKER_METRICS_PORT": str(free_port()),
        "TASKHUB_WORKER_CONCURRENCY": "1",
    }


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str], Path]]:
    env = dev_env(tmp_path)
    log = tmp_path / "dev.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", "dev"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        yield process, env, log
    finally:
        # Asked first: its children run in sessions of their own, so killing its process
        # group would leave them running.
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


BANNER = "taskhub is running"
# The level of a log line: taskhub's own format ("... WARNING logger ..."), Flower's ("[W ...").
WARNING_LINE = re.compile(r"\sWARNING\s|\| \[W \d")
ANSI_COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def wait_until_ready(process: subprocess.Popen[str], log: Path) -> None:
    """Until the banner is printed: the supervisor prints it once every child is up."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        if BANNER in log.read_text():
            return
        time.sleep(0.2)
    pytest.fail(f"taskhub dev never printed its banner:\n{log.read_text()[-3000:]}")


def wait_until_the_relay_has_run(env: dict[str, str], process: subprocess.Popen[str]) -> None:
    """Until Beat's first relay run has recorded the broker's epoch: it has logged by then."""
    password = (Path(env["TASKHUB_DATA_DIR"]) / "redis-password").read_text().strip()
    client = redis.Redis(
        port=int(env["TASKHUB_DEV_REDIS_PORT"]), password=password, socket_timeout=2
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if client.exists(EPOCH_KEY):
                return
            time.sleep(0.2)
    finally:
        client.close()
    pytest.fail("Beat's relay never ran")


def port_open(port: str) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", int(port))) == 0


def test_a_child_that_dies_is_reported_and_the_rest_is_stopped(dev) -> None:  # type: ignore[no-untyped-def]
    process, env, log = dev
    wait_until_ready(process, log)
    # The worker's main process, a child of `taskhub dev`: not one of its pool processes,
    # whose command line is the same but whose death the worker itself repairs.
    worker = subprocess.run(  # noqa: S603 - fixed arguments
        ["pgrep", "-P", str(process.pid), "-f", "entrypoints.cli worker"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]

    os.kill(int(worker), signal.SIGKILL)
    code = process.wait(timeout=60)

    output = log.read_text()
    assert code == 1
    assert "worker exited with code -9; stopping the others" in output
    assert "taskhub stopped" in output
    for port in ("TASKHUB_API_PORT", "TASKHUB_DEV_REDIS_PORT", "TASKHUB_FLOWER_PORT"):
        assert not port_open(env[port]), f"{port} still served after shutdown"


def test_ctrl_c_stops_every_child_cleanly(dev) -> None:  # type: ignore[no-untyped-def]
    process, env, log = dev
    wait_until_ready(process, log)

    process.send_signal(signal.SIGINT)
    code = process.wait(timeout=60)

    assert code == 0
    assert "taskhub stopped" in log.read_text()
    assert not port_open(env["TASKHUB_API_PORT"])
    assert not port_open(env["TASKHUB_DEV_REDIS_PORT"])


def test_a_healthy_start_prints_no_warning(dev) -> None:  # type: ignore[no-untyped-def]
    process, env, log = dev
    wait_until_ready(process, log)
    wait_until_the_relay_has_run(env, process)
    # The API answers too: started, not merely listening.
    ready = f"http://127.0.0.1:{env['TASKHUB_API_PORT']}/api/v1/health/ready"
    assert httpx.get(ready, timeout=5).status_code == 200

    lines = [ANSI_COLOUR.sub("", line) for line in log.read_text().splitlines()]
    # Redis's own start-up check of the host's kernel (vm.overcommit_memory) is about the
    # machine, not taskhub; every other process is taskhub's.
    warnings = [
        line
        for line in lines
        if WARNING_LINE.search(line) and not line.lstrip().startswith("redis |")
    ]
    assert warnings == []


def test_a_port_in_use_gets_a_clear_message(tmp_path: Path) -> None:
    env = dev_env(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["TASKHUB_API_PORT"])))
        taken.listen()

        result = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "dev"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode == 1
    assert f"API port {env['TASKHUB_API_PORT']} already in use" in result.stdout
    assert "TASKHUB_API_PORT" in result.stdout


def test_the_embedded_server_is_valkey_behind_a_password_and_its_data_is_private(dev) -> None:  # type: ignore[no-untyped-def]
    process, env, log = dev
    wait_until_ready(process, log)
    data = Path(env["TASKHUB_DATA_DIR"])
    password = (data / "redis-password").read_text().strip()
    port = int(env["TASKHUB_DEV_REDIS_PORT"])

    anonymous = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    with pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    with redis.Redis(host="127.0.0.1", port=port, password=password) as server:
        assert server.info("server")["valkey_version"].startswith("8.")
        server.execute_command("BGREWRITEAOF")
        time.sleep(1)
    assert password not in log.read_text()
    assert (
        password
        not in subprocess.run(
            ["ps", "-eo", "args"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )

    directories = [data, *(p for p in data.rglob("*") if p.is_dir())]
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".aof") for p in files), files
    assert any(p.name == "taskhub.db" for p in files), files
    wrong = {
        str(p.relative_to(data)): oct(p.stat().st_mode & 0o777)
        for p in [*directories, *files]
        if p.stat().st_mode & 0o077
    }
    assert wrong == {}

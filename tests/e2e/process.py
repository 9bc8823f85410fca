"""One server process of the stack: started in a session of its own, its output in a file.

A process group per process lets a test kill a worker with all its pool children at once,
and lets teardown make sure nothing it started outlives the test run.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

STOP_TIMEOUT = 10.0
POLL_SECONDS = 0.05


class ProcessExitedError(AssertionError):
    """A process the test waits on has exited."""


class ManagedProcess:
    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        log_path: Path,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self._log = log_path.open("wb")
        self._popen = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self.command,
            cwd=cwd,
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
        return self._exited_status() is None

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 60, *, skip: re.Pattern[str] | None = None) -> str:
        kept = [line for line in self.log_text().splitlines() if not (skip and skip.search(line))]
        return "\n".join(kept[-lines:])

    def wait_for_log(self, pattern: str, *, timeout: float) -> re.Match[str]:
        """The first match of `pattern` in the output; fails when the process exits first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            found = regex.search(self.log_text())
            if found:
                return found
            if not self.running:
                raise ProcessExitedError(
                    f"{self.name} exited ({self._exited_status()}) before logging "
                    f"{pattern!r}:\n{self.tail()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name} did not log {pattern!r} within {timeout}s:\n{self.tail()}"
                )
            time.sleep(POLL_SECONDS)

    def living_group_members(self) -> list[int]:
        """Pids of the process's group that are alive (not zombies), from /proc (Linux)."""
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ")".
                state, _, group = stat.read_text().rpartition(")")[2].split()[:3]
                if int(group) == self.pid and state != "Z":
                    members.append(int(stat.parent.name))
        return members

    def kill_group(self) -> None:
        """SIGKILL the process and everything it started (a worker's pool children)."""
        self._signal_group(signal.SIGKILL)

    def send_signal(self, signum: int) -> None:
        """`signum` to the main process alone, as an orchestrator stopping a container does."""
        self._popen.send_signal(signum)

    def wait_for_exit(self, *, timeout: float) -> int:
        """The exit status once the process has exited by itself; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while (status := self._exited_status()) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} still runs after {timeout}s:\n{self.tail()}")
            time.sleep(POLL_SECONDS)
        return status

    def terminate(self) -> None:
        if self.running:
            self._popen.terminate()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM, SIGKILL after `timeout`, then SIGKILL whatever is left of the group."""
        self.terminate()
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        # The group is ours while the main process is not reaped (a zombie keeps its pid).
        self._signal_group(signal.SIGKILL)
        self._popen.wait(timeout=timeout)
        self._log.close()

    def _exited_status(self) -> int | None:
        if self._popen.returncode is not None:
            return self._popen.returncode
        # WNOWAIT: learn that it exited without reaping it, so its group id stays ours.
        found = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        return None if found is None else found.si_status

    def _signal_group(self, signum: int) -> None:
        if self._popen.returncode is not None:
            return  # reaped: the group id may belong to someone else by now
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)

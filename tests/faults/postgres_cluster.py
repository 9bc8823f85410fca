"""A throwaway PostgreSQL cluster: initdb in a temporary directory, a free loopback port,
stopped and started at will by a fault test. Never the shared server the other suites use.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` account.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.redis_server import HOST, free_port

SERVER_ACCOUNT = "postgres"
# Durability is not what these tests are about: a quick cluster is.
SERVER_OPTIONS = "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"


def postgres_binaries() -> Path | None:
    """The bin directory of the newest PostgreSQL installed from the distribution."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def unavailable_reason() -> str | None:
    if postgres_binaries() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _account_exists()):
        return f"initdb refuses root, and there is no {SERVER_ACCOUNT} account to run it as"
    return None


class PostgresCluster:
    def __init__(self) -> None:
        binaries = postgres_binaries()
        if binaries is None:
            raise RuntimeError("no PostgreSQL server binaries")
        self.binaries = binaries
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="taskhub-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self._as_account = os.geteuid() == 0
        if self._as_account:
            shutil.chown(self.directory, SERVER_ACCOUNT, SERVER_ACCOUNT)
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        self.running = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses={HOST} -k {self.directory} "
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                 options + SERVER_OPTIONS, "start")  # fmt: skip
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """`fast`: connections are cut, transactions rolled back, as in a failover or crash."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def close(self) -> None:
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

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

    def _pg(self, program: str, *arguments: str) -> None:
        command = [str(self.binaries / program), *arguments]
        if self._as_account:
            command = ["runuser", "-u", SERVER_ACCOUNT, "--", *command]
        finished = subprocess.run(  # noqa: S603 - the distribution's own binaries
            command, capture_output=True, text=True, timeout=90, check=False, cwd=self.directory
        )
        if finished.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({finished.returncode}): {finished.stderr or finished.stdout}"
                f"\n{self.log_tail()}"
            )


def _account_exists() -> bool:
    import pwd

    try:
        pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        return False
    return True

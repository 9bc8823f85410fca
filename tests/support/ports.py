"""Loopback ports for test servers that nothing else takes between choosing and using them.

A port the kernel picks for `bind(port 0)` comes from its ephemeral range: once released,
the kernel may hand it to any other process's `bind(0)` or outgoing connection before the
test's server binds it. Ports handed out here lie outside that range, and each is reserved
for the lifetime of the process that took it by an exclusive lock on a file of its own,
which every test run on this machine (other checkouts included) respects.
"""

from __future__ import annotations

import fcntl
import random
import socket
import tempfile
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
LOCK_DIRECTORY = Path(tempfile.gettempdir()) / "taskhub-test-ports"
# Below 1024 needs root, and the low thousands hold well-known services.
LOWEST = 10_000
DEFAULT_EPHEMERAL = (32_768, 60_999)

_held: dict[int, IO[bytes]] = {}  # kept open: closing a file releases its lock


def ephemeral_range() -> tuple[int, int]:
    """The kernel's range for ports it picks itself (Linux; the usual default elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return DEFAULT_EPHEMERAL


def candidate_ports() -> list[int]:
    """Every port outside the ephemeral range that may be handed out, in random order."""
    low, high = ephemeral_range()
    ports = [*range(LOWEST, low), *range(high + 1, 65_536)]
    random.shuffle(ports)
    return ports


def reserve(port: int) -> bool:
    """Take `port` for this process if no process holds it and it can be bound now."""
    if port in _held:
        return False
    LOCK_DIRECTORY.mkdir(mode=0o777, exist_ok=True)
    lock = (LOCK_DIRECTORY / f"{port}.lock").open("ab")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return False
    if not _bindable(port):
        lock.close()  # releases the lock
        return False
    _held[port] = lock
    return True


def free_port() -> int:
    """A loopback port no other process is using or will be handed, for this process's
    lifetime; never the same one twice."""
    for port in candidate_ports():
        if reserve(port):
            return port
    raise RuntimeError(f"no free port outside the ephemeral range {ephemeral_range()}")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True

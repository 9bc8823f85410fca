"""Resident memory of a process and of the processes it started (a worker's pool)."""

from __future__ import annotations

from pathlib import Path

try:
    import psutil
except ImportError:  # the optional `bench` extra
    psutil = None


def rss_mb(pid: int) -> float:
    if psutil is not None:
        return float(psutil.Process(pid).memory_info().rss) / 2**20
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def children(pid: int) -> list[int]:
    if psutil is not None:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def process_tree_mb(pid: int) -> dict[str, float]:
    """{'main': MB, 'child 1': MB, ...}: the main process and each pool child."""
    sizes = {"main": rss_mb(pid)}
    for n, child in enumerate(sorted(children(pid)), start=1):
        sizes[f"child {n}"] = rss_mb(child)
    return sizes

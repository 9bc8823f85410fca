"""Reading files the way long tasks should: in chunks, with progress."""

from __future__ import annotations

import hashlib
from pathlib import Path

from application.ports import TaskContext

CHUNK = 1024 * 1024


def file_digest(ctx: TaskContext, path: Path, algorithm: str) -> tuple[int, str]:
    """Hash a file in chunks, reporting progress by bytes read; returns (size, hexdigest)."""
    size = path.stat().st_size
    digest = hashlib.new(algorithm)
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            ctx.progress(done * 100 // size if size else 100)
    return size, digest.hexdigest()

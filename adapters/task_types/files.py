"""Reading files the way long tasks should: in chunks, with progress, and only where allowed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from application.ports import TaskContext

CHUNK = 1024 * 1024


class OutsideFileAreaError(PermissionError):
    """A task named a file outside the directory its worker may read. Never retried."""


@dataclass(frozen=True)
class FileArea:
    """The one directory tree file-reading task types may touch.

    Without it, any user could have a worker hash (and so fingerprint) any file it can read.
    Relative names are taken from the root; symlinks are resolved before the check.
    """

    root: Path

    def resolve(self, name: str) -> Path:
        root = self.root.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root):
            raise OutsideFileAreaError(f"{name} is outside the files area {root}")
        return path


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

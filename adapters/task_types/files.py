"""Reading files the way long tasks should: in chunks, with progress, and only where allowed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from application.errors import TaskInputError
from application.ports import TaskContext

CHUNK = 1024 * 1024


class OutsideFileAreaError(TaskInputError):
    """A task named a file outside the directory its worker may read. Never retried."""


class UnreadableFileError(TaskInputError):
    """A file of the files area is missing or cannot be read. Never retried."""


@dataclass(frozen=True)
class FileArea:
    """The one directory tree file-reading task types may touch.

    Without it, any user could have a worker hash (and so fingerprint) any file it can read.
    Relative names are taken from the root; symlinks are resolved before the check. Errors
    name files relative to the root: where the area lives on the server is nobody's business.
    """

    root: Path

    def of(self, ctx: TaskContext) -> FileArea:
        """The part of the area the running task may read: its owner's folder, named by
        the owner's id (`<root>/<user id>/`), or all of it for an administrator's task.
        Names in a user's task are relative to their folder, so no user reaches another's
        files, and errors name files relative to it."""
        if ctx.owner_is_admin or ctx.owner_id is None:
            return self
        return FileArea(self.root / str(ctx.owner_id))

    def resolve(self, name: str) -> Path:
        root = self.root.resolve()
        try:
            path = (root / name).resolve()
        except (ValueError, OSError):  # a NUL in the name; a symlink loop
            raise UnreadableFileError(f"{name!r} is not a usable file name") from None
        if not path.is_relative_to(root):
            raise OutsideFileAreaError(f"{name} is outside the files area")
        return path

    def shown(self, path: Path) -> str:
        """`path` as a task's caller may see it: relative to the files area."""
        try:
            return str(path.relative_to(self.root.resolve()))
        except ValueError:
            return path.name

    def unreadable(self, path: Path, error: OSError) -> UnreadableFileError:
        """The error to fail with when `path` could not be read: its name in the area and
        why, never the absolute path the OSError carries."""
        reason = (error.strerror or "cannot be read").lower()
        return UnreadableFileError(f"{self.shown(path)}: {reason}")


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

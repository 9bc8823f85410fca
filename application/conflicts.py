"""Trying a transaction afresh when another writer changed what it read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from domain.errors import ConflictError

T = TypeVar("T")


def tried_afresh_on_conflict(
    change: Callable[[], T], *, conflicts: tuple[type[ConflictError], ...], tries: int = 3
) -> T:
    """Make `change` (one whole transaction: read, decide, write), running it again on the
    fresh state when it raises one of `conflicts`. The last try's conflict is raised."""
    for _ in range(tries - 1):
        try:
            return change()
        except conflicts:
            pass
    return change()

"""A task context for running task-type functions in unit tests: records progress, can cancel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

from application.errors import TaskCancelledError
from application.ports import TaskContext
from domain.task import TaskId
from domain.user import UserId


@dataclass
class RecordingTaskContext(TaskContext):
    task_id: TaskId = field(default_factory=lambda: TaskId(uuid4()))
    attempt: int = 1
    # The whole files area by default, as an admin's task sees it; give an owner_id and
    # owner_is_admin=False to run as a user, confined to their folder.
    owner_id: UserId | None = None
    owner_is_admin: bool = True
    upstream: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: list[tuple[int, str | None]] = field(default_factory=list)
    cancel_after: int | None = None  # cancel once this many reports were made
    lines: list[tuple[str, str]] = field(default_factory=list)  # (level, message)

    def progress(self, percent: int, message: str | None = None) -> None:
        self.check_cancelled()
        self.reports.append((percent, message))

    def check_cancelled(self) -> None:
        if self.cancel_after is not None and len(self.reports) >= self.cancel_after:
            raise TaskCancelledError("cancelled", task_id=str(self.task_id))

    def log(self, message: str, *, level: str = "info") -> None:
        self.lines.append((level, message))

    @property
    def percents(self) -> list[int]:
        return [percent for percent, _ in self.reports]

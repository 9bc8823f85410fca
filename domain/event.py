"""Task events: each change of a task's status or progress, and the lines its runs log,
numbered in one sequence per user, so a client following them (stream or webhooks) can
resume by number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.task import TaskId
from domain.user import UserId


class EventKind(StrEnum):
    STATUS = "status"
    PROGRESS = "progress"
    # Lines a run logged (`data`: the task's id and type, and the lines), not a change of
    # the task: streams carry them, webhooks do not.
    LOG = "log"
    WORKFLOW = "workflow"  # a workflow ended; its `task_id` is the workflow's id


# What webhook endpoints may subscribe to: a status event is `task.<status>`.
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (
    "task.pending",
    "task.running",
    "task.progress",
    "task.completed",
    "task.failed",
    "task.cancelled",
    "workflow.completed",
    "workflow.failed",
    "workflow.cancelled",
)


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """One change, with the task as it was right after it (`data`, JSON)."""

    user_id: UserId
    sequence: int
    task_id: TaskId
    kind: EventKind
    data: dict[str, Any]
    occurred_at: datetime

    @property
    def type(self) -> str:
        """The webhook event type: `task.progress`, `task.<status>` or `workflow.<status>`."""
        if self.kind is EventKind.PROGRESS:
            return "task.progress"
        if self.kind is EventKind.LOG:
            return "task.log"
        if self.kind is EventKind.WORKFLOW:
            return f"workflow.{self.data['status']}"
        return f"task.{self.data['status']}"

    @property
    def terminal(self) -> bool:
        return self.kind is EventKind.STATUS and self.data["status"] in (
            "completed",
            "failed",
            "cancelled",
        )

"""Dispatchers for unit tests: one that records what it was asked, one whose broker is down."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from application.errors import DependencyUnavailableError
from application.ports import TaskDispatcher
from domain.task import Task, TaskId


@dataclass(frozen=True, slots=True)
class Enqueued:
    task_id: TaskId
    task_type: str
    queue: str
    countdown: float | None


@dataclass
class RecordingTaskDispatcher(TaskDispatcher):
    """Records what it was asked; its broker never loses a message until `lose_memory()`."""

    enqueued: list[Enqueued] = field(default_factory=list)
    revoked: list[TaskId] = field(default_factory=list)
    epoch: int = 1
    recovered_epoch: int = 1

    def enqueue(self, tasks: Sequence[Task], *, countdown: float | None = None) -> None:
        self.enqueued.extend(Enqueued(t.id, t.task_type, t.queue, countdown) for t in tasks)

    def revoke(self, task_id: TaskId) -> None:
        self.revoked.append(task_id)

    def new_epoch(self) -> str | None:
        return None if self.epoch == self.recovered_epoch else str(self.epoch)

    def mark_epoch_recovered(self, epoch: str) -> None:
        self.recovered_epoch = int(epoch)

    def lose_memory(self) -> None:
        """What a Redis that restarts empty does: a new epoch begins."""
        self.epoch += 1

    @property
    def enqueued_ids(self) -> list[TaskId]:
        return [e.task_id for e in self.enqueued]


class FailingDispatcher(TaskDispatcher):
    """A broker that is down: every call raises, nothing is sent."""

    def enqueue(self, tasks: Sequence[Task], *, countdown: float | None = None) -> None:
        raise DependencyUnavailableError("broker is down", dependency="broker")

    def revoke(self, task_id: TaskId) -> None:
        raise DependencyUnavailableError("broker is down", dependency="broker")

    def new_epoch(self) -> str | None:
        raise DependencyUnavailableError("broker is down", dependency="broker")

    def mark_epoch_recovered(self, epoch: str) -> None:
        raise DependencyUnavailableError("broker is down", dependency="broker")

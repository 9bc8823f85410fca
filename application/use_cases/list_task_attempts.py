"""Reading a task's attempts: every run it had, as each ended."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_task
from application.ports import UnitOfWork
from domain.attempt import Attempt
from domain.policy import Action
from domain.task import TaskId
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListTaskAttempts:
    """Rules: whoever may read the task may read its attempts, first first. A run still
    going is not among them (the task shows it). Raises NotFoundError."""

    uow: UnitOfWork

    def execute(self, actor: User, task_id: TaskId) -> list[Attempt]:
        with self.uow:
            load_task(self.uow, actor, task_id, Action.READ)
            return self.uow.attempts.list(task_id)

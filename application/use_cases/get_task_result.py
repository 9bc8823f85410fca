"""Reading a task's result, a secret one opened: for its owner alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from application.access import load_task
from application.ports import SecretCipher, UnitOfWork
from application.secret_values import SecretSealing
from domain.errors import NotFoundError
from domain.policy import Action
from domain.task import TaskId
from domain.user import User


@dataclass(frozen=True, slots=True)
class GetTaskResult:
    """Rules: only the task's owner reads its result here, an admin included only for their
    own tasks (a secret result is the owner's alone); anyone else's task is not found. A
    result its task type marks secret is opened with `cipher`; one no key opens raises
    SecretUnreadableError. A task with no result yet returns None.

    Raises NotFoundError, SecretUnreadableError."""

    uow: UnitOfWork
    cipher: SecretCipher

    def execute(self, actor: User, task_id: TaskId) -> Any:
        with self.uow:
            task = load_task(self.uow, actor, task_id, Action.READ)
        if task.user_id != actor.id:
            raise NotFoundError(f"task {task_id} not found", task_id=str(task_id))
        return SecretSealing(self.cipher).open_result(task.result)

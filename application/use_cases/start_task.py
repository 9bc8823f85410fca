"""The worker's claim: moving a delivered task from pending to running, exactly once per run."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from application.ports import Clock, UnitOfWork
from domain.errors import NotFoundError
from domain.task import RunToken, TaskId
from domain.user import UserId


@dataclass(frozen=True, slots=True)
class TaskRun:
    """What a worker needs to execute one claimed run; `run_token` signs its later writes."""

    task_id: TaskId
    run_token: RunToken
    task_type: str
    queue: str
    args: list[Any]
    kwargs: dict[str, Any]
    attempt: int
    max_attempts: int
    request_id: str | None = None
    # Whose task it is: a task reads files only in its owner's folder (an admin's, anywhere).
    owner_id: UserId | None = None
    owner_is_admin: bool = False


@dataclass(frozen=True, slots=True)
class StartTask:
    """Rules: only a pending task can be claimed, and the claim is a compare-and-set, so of
    two deliveries of one message (or a cancel racing the claim) exactly one wins.

    Raises NotFoundError (deleted), InvalidTransitionError (not pending: cancelled, already
    running elsewhere or finished), ConcurrencyConflictError (lost the race).
    """

    uow: UnitOfWork
    clock: Clock

    def execute(self, task_id: TaskId) -> TaskRun:
        token = RunToken(secrets.token_hex(16))
        with self.uow:
            task = self.uow.tasks.get(task_id)
            task.start(run_token=token, at=self.clock.now())
            self.uow.tasks.update(task)
            try:
                owner_is_admin = self.uow.users.get(task.user_id).is_admin
            except NotFoundError:  # cannot be while the task row exists (cascade); be safe
                owner_is_admin = False
            self.uow.commit()
        return TaskRun(
            task_id=task.id,
            run_token=token,
            task_type=task.task_type,
            queue=task.queue,
            args=list(task.args),
            kwargs=dict(task.kwargs),
            attempt=task.attempts,
            max_attempts=task.max_attempts,
            request_id=task.request_id,
            owner_id=task.user_id,
            owner_is_admin=owner_is_admin,
        )

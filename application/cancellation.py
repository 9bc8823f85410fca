"""Cancelling a task inside an open unit of work: what cancelling and deleting share."""

from __future__ import annotations

from datetime import datetime

from application.ports import UnitOfWork
from application.running.ending import run_ended
from domain.task import Task


def cancel_in_transaction(uow: UnitOfWork, task: Task, *, at: datetime) -> list[Task]:
    """Cancel `task` inside an open unit of work, undoing the model request it carried.
    Returns the tasks this released (of its workflow under `continue`, or held for its
    concurrency key), to publish after the commit."""
    task.cancel(at=at)
    uow.tasks.update(task)
    return run_ended(uow, task, at=at)

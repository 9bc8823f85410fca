"""Cancelling a task inside an open unit of work: what cancelling and deleting share."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from application.flow_control import in_key_order
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


def cancel_all_in_transaction(
    uow: UnitOfWork, tasks: Sequence[Task], *, at: datetime
) -> list[Task]:
    """Cancel several tasks inside an open unit of work (whose workflow, if any, the caller
    holds), in the lock order of docs/adr/0018: every task's row first, by id, then what
    each run's end does, which takes concurrency keys, in the keys' order. Returns the
    tasks this released, to publish after the commit."""
    by_id = sorted(tasks, key=lambda t: str(t.id))
    for task in by_id:
        task.cancel(at=at)
        uow.tasks.update(task)
    released = []
    for task in in_key_order(by_id):
        released += run_ended(uow, task, at=at)
    return released

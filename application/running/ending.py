"""The one place where "a run ended" happens, whoever ended it: the worker recording its
outcome, a cancellation, the reaper, the time-limit check."""

from __future__ import annotations

from datetime import datetime

from application.flow_control import release_freed_slots
from application.model_settlement import settle_model_task
from application.ports import UnitOfWork
from domain.task import Task


def run_ended(uow: UnitOfWork, task: Task, *, at: datetime) -> list[Task]:
    """Called inside the unit of work that stored `task` leaving its run (terminal, or back
    to pending for a retry), before the commit: what follows from a run's end is written in
    the same transaction, or not at all. A run's end is where later consequences hook in
    (releasing dependent tasks, a concurrency slot, events).

    Returns the tasks the end released (a concurrency slot came free): the caller publishes
    them after the commit, and the relay does if it cannot."""
    settle_model_task(uow, task, at=at)
    return release_freed_slots(uow, task)

"""The one place where "a run ended" happens, whoever ended it: the worker recording its
outcome, a cancellation, the reaper, the time-limit check."""

from __future__ import annotations

from datetime import datetime

from application.flow_control import release_freed_slots
from application.model_settlement import settle_model_task
from application.ports import UnitOfWork
from application.task_events import record_status_events, record_task_event
from application.workflows import advance_workflow
from domain.attempt import Attempt
from domain.event import EventKind
from domain.task import Task


def run_ended(uow: UnitOfWork, task: Task, *, at: datetime) -> list[Task]:
    """Called inside the unit of work that stored `task` leaving its run (terminal, or back
    to pending for a retry), before the commit: what follows from a run's end is written in
    the same transaction, or not at all. A run's end is where later consequences hook in
    (releasing dependent tasks, a concurrency slot, events).

    Returns the tasks the end released, for the caller to publish after the commit (one
    that does not leaves them to the relay, as any unpublished task): tasks of `task`'s
    workflow, and held tasks of its concurrency key whose slot came free."""
    settle_model_task(uow, task, at=at)
    if task.attempts:
        # Its latest attempt, unless that ended before (a retried task cancelled while it
        # waits for its next run): the repository keeps the first record of each number.
        uow.attempts.add(Attempt.ended(task, at=at))
    record_task_event(uow, task, EventKind.STATUS, at=at)
    released = advance_workflow(uow, task, at=at) + release_freed_slots(uow, task)
    record_status_events(uow, released, at=at)
    return released

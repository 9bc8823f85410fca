"""Recording task events: each change of a task's status or progress, and each batch of
lines a run logs, is numbered in its owner's sequence and stored in the transaction that
makes the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from application.ports import UnitOfWork
from application.secret_values import masked
from application.webhook_outbox import stage_deliveries
from domain.attempt import TaskLogLine
from domain.event import EventKind, TaskEvent
from domain.task import Task, TaskId
from domain.user import UserId
from domain.workflow import Workflow


def record_task_event(uow: UnitOfWork, task: Task, kind: EventKind, *, at: datetime) -> TaskEvent:
    """Store the event of `task`'s change inside the open unit of work, before its commit:
    the event exists exactly when the change does, and so do its webhook deliveries. Takes
    the owner's event lock (see EventRepository.next_sequence) until the commit."""
    eta = _eta_seconds(uow, task, at) if kind is EventKind.PROGRESS else None
    event = uow.events.record(task.user_id, task.id, kind, task_snapshot(task, eta_seconds=eta), at)
    stage_deliveries(uow, [event])
    return event


def record_log_event(
    uow: UnitOfWork, task: Task, lines: Sequence[TaskLogLine], *, at: datetime
) -> TaskEvent:
    """Store one event for lines a run of `task` logged together, in their transaction."""
    return uow.events.record(
        task.user_id,
        task.id,
        EventKind.LOG,
        {
            "id": str(task.id),
            "task_type": task.task_type,
            "workflow_id": str(task.workflow_id) if task.workflow_id else None,
            "lines": [
                {
                    "seq": line.seq,
                    "attempt": line.attempt,
                    "level": line.level.value,
                    "message": line.message,
                    "logged_at": line.logged_at.isoformat(),
                }
                for line in lines
            ],
        },
        at,
    )


def record_workflow_event(uow: UnitOfWork, workflow: Workflow, *, at: datetime) -> TaskEvent:
    """Store the event of a workflow's end (completed, failed, cancelled) in the open unit
    of work, numbered in its owner's sequence like a task's, with its webhook deliveries."""
    event = uow.events.record(
        workflow.user_id,
        TaskId(workflow.id),
        EventKind.WORKFLOW,
        {
            "id": str(workflow.id),
            "workflow_id": str(workflow.id),
            "name": workflow.name,
            "status": workflow.status.value,
            "user_id": str(workflow.user_id),
            "created_at": workflow.created_at.isoformat(),
            "completed_at": workflow.completed_at.isoformat() if workflow.completed_at else None,
        },
        at,
    )
    stage_deliveries(uow, [event])
    return event


def record_status_events(uow: UnitOfWork, tasks: list[Task], *, at: datetime) -> None:
    """The status events of many tasks (a batch, a workflow): each owner's numbers taken
    in one step and the events stored in one, instead of two statements a task."""
    by_owner: dict[UserId, list[Task]] = {}
    for task in tasks:
        by_owner.setdefault(task.user_id, []).append(task)
    events = []
    for owner, owned in by_owner.items():
        first = uow.events.next_sequence(owner, len(owned))
        events += [
            TaskEvent(
                user_id=owner,
                sequence=first + n,
                task_id=task.id,
                kind=EventKind.STATUS,
                data=task_snapshot(task),
                occurred_at=at,
            )
            for n, task in enumerate(owned)
        ]
    uow.events.add_many(events)
    stage_deliveries(uow, events)


def task_snapshot(task: Task, *, eta_seconds: float | None = None) -> dict[str, Any]:
    """The task as JSON, the same fields as the API's task resource, plus `eta_seconds` and
    the workflow it belongs to."""
    return {
        "id": str(task.id),
        "name": task.name,
        "task_type": task.task_type,
        "status": task.status.value,
        "priority": task.priority.value,
        "queue": task.queue,
        "result": masked(task.result),
        "error": {"type": task.error.type, "message": task.error.message} if task.error else None,
        "progress": task.progress.percent,
        "progress_message": task.progress_message,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "user_id": str(task.user_id),
        "model_id": str(task.model_id) if task.model_id else None,
        "workflow_id": str(task.workflow_id) if task.workflow_id else None,
        "created_at": task.created_at.isoformat(),
        "started_at": task.started_at.isoformat() if task.started_at else None,
        "completed_at": task.completed_at.isoformat() if task.completed_at else None,
        "eta_seconds": eta_seconds,
    }


def _eta_seconds(uow: UnitOfWork, task: Task, at: datetime) -> float | None:
    """From the rate between the previous progress point of this attempt and this one; None
    until there are two points, or when progress did not move."""
    previous = uow.events.latest(task.id, EventKind.PROGRESS)
    if previous is None or previous.data.get("attempts") != task.attempts:
        return None
    gained = task.progress.percent - int(previous.data["progress"])
    elapsed = (at - previous.occurred_at).total_seconds()
    if gained <= 0 or elapsed <= 0:
        return None
    return round((100 - task.progress.percent) * elapsed / gained, 3)

"""Recording task events: each change of a task's status or progress is numbered in its
owner's sequence and stored in the transaction that makes the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.ports import UnitOfWork
from application.webhook_outbox import stage_deliveries
from domain.event import EventKind, TaskEvent
from domain.task import Task, TaskId
from domain.workflow import Workflow


def record_task_event(uow: UnitOfWork, task: Task, kind: EventKind, *, at: datetime) -> TaskEvent:
    """Store the event of `task`'s change inside the open unit of work, before its commit:
    the event exists exactly when the change does, and so do its webhook deliveries. Takes
    the owner's event lock (see EventRepository.next_sequence) until the commit."""
    eta = _eta_seconds(uow, task, at) if kind is EventKind.PROGRESS else None
    event = TaskEvent(
        user_id=task.user_id,
        sequence=uow.events.next_sequence(task.user_id),
        task_id=task.id,
        kind=kind,
        data=task_snapshot(task, eta_seconds=eta),
        occurred_at=at,
    )
    uow.events.add(event)
    stage_deliveries(uow, event)
    return event


def record_workflow_event(uow: UnitOfWork, workflow: Workflow, *, at: datetime) -> TaskEvent:
    """Store the event of a workflow's end (completed, failed, cancelled) in the open unit
    of work, numbered in its owner's sequence like a task's, with its webhook deliveries."""
    event = TaskEvent(
        user_id=workflow.user_id,
        sequence=uow.events.next_sequence(workflow.user_id),
        task_id=TaskId(workflow.id),
        kind=EventKind.WORKFLOW,
        data={
            "id": str(workflow.id),
            "workflow_id": str(workflow.id),
            "name": workflow.name,
            "status": workflow.status.value,
            "user_id": str(workflow.user_id),
            "created_at": workflow.created_at.isoformat(),
            "completed_at": workflow.completed_at.isoformat() if workflow.completed_at else None,
        },
        occurred_at=at,
    )
    uow.events.add(event)
    stage_deliveries(uow, event)
    return event


def record_status_events(uow: UnitOfWork, tasks: list[Task], *, at: datetime) -> None:
    for task in tasks:
        record_task_event(uow, task, EventKind.STATUS, at=at)


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
        "result": task.result,
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

"""Reading task events for a stream: where a new stream starts, and what a resumed one
missed."""

from __future__ import annotations

from dataclasses import dataclass

from application.access import load_task
from application.ports import Clock, UnitOfWork
from application.task_events import task_snapshot
from application.workflows import load_workflow
from domain.event import EventKind, TaskEvent
from domain.policy import Action, ensure_active
from domain.task import TaskId
from domain.user import User, UserId
from domain.workflow import WorkflowId


@dataclass(frozen=True, slots=True)
class EventsRead:
    """Events in order, and the owner's sequence number the read reached: a stream goes on
    from there (every later event is numbered above it)."""

    owner_id: UserId
    events: list[TaskEvent]
    reached: int


@dataclass(frozen=True, slots=True)
class ReadTaskEvents:
    """Rules: a user reads the events of their own tasks; one task's events are read by
    whoever may read the task (an admin too: they are then numbered in its owner's
    sequence). Without `after` (a new stream), one task's stream starts with its current
    state, numbered with the owner's latest number; the stream of every task starts with
    nothing. With `after` (Last-Event-ID), the events numbered above it, at most `limit`;
    of tasks of `task_type` and of the workflow `workflow_id` only, when given.

    Raises NotFoundError (a task or workflow the actor may not read, or gone).
    """

    uow: UnitOfWork
    clock: Clock
    limit: int = 500

    def execute(
        self,
        actor: User,
        *,
        after: int | None,
        task_id: TaskId | None = None,
        task_type: str | None = None,
        workflow_id: WorkflowId | None = None,
    ) -> EventsRead:
        ensure_active(actor)
        with self.uow:
            owner_id = actor.id
            task = None
            if workflow_id is not None:
                load_workflow(self.uow, actor, workflow_id, Action.READ)
            if task_id is not None:
                task = load_task(self.uow, actor, task_id, Action.READ)
                owner_id = task.user_id
            reached = self.uow.events.last_sequence(owner_id)
            if after is None:
                if task is None:
                    return EventsRead(owner_id, [], reached)
                current = TaskEvent(
                    user_id=owner_id,
                    sequence=reached,
                    task_id=task.id,
                    kind=EventKind.STATUS,
                    data=task_snapshot(task),
                    occurred_at=self.clock.now(),
                )
                return EventsRead(owner_id, [current], reached)
            events = self.uow.events.after(owner_id, after, task_id=task_id, limit=self.limit)
        if len(events) == self.limit:
            reached = events[-1].sequence  # more to read: go on from here
        elif events:
            reached = max(reached, events[-1].sequence)
        events = [e for e in events if wanted(e, task_type=task_type, workflow_id=workflow_id)]
        return EventsRead(owner_id, events, reached)


def wanted(event: TaskEvent, *, task_type: str | None, workflow_id: WorkflowId | None) -> bool:
    """Whether the event passes a stream's filters: of tasks of that type, of that workflow."""
    if task_type is not None and event.data.get("task_type") != task_type:
        return False
    return workflow_id is None or event.data.get("workflow_id") == str(workflow_id)

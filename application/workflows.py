"""What a workflow's tasks do to each other, inside an open unit of work: holding the
workflow, releasing and cancelling dependents when a task ends, what a task waits for, and
the results a task reads from the tasks it depends on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from application.access import load_owned
from application.ports import UnitOfWork, Upstream
from application.task_events import record_workflow_event
from domain.policy import Action
from domain.task import Task, TaskError, TaskId, TaskStatus
from domain.user import User
from domain.workflow import Graph, Node, Workflow, WorkflowId, WorkflowStatus

UPSTREAM_FAILED = "UpstreamFailed"


def graph_of(tasks: Sequence[Task]) -> Graph:
    """The graph the tasks of one workflow form (checked when it was submitted)."""
    nodes = [Node(task.workflow_key or str(task.id), tuple(task.depends_on)) for task in tasks]
    return Graph(nodes, checked=True)


def in_topological_order(tasks: Sequence[Task]) -> list[Task]:
    """The tasks level by level (what runs first, first); within a level by key."""
    by_key = {task.workflow_key: task for task in tasks}
    return [by_key[key] for level in graph_of(tasks).levels() for key in sorted(level)]


def holding_its_workflow(uow: UnitOfWork, task: Task) -> Task:
    """`task` (as just read, nothing held) read again after its workflow, if any, is held:
    for whoever ends a task and learns its workflow only from its row (a task's cancel, the
    time-limit check), so that it too holds the workflow before the task's row."""
    if task.workflow_id is None:
        return task
    uow.workflows.lock(task.workflow_id)
    return uow.tasks.get(task.id)


def advance_workflow(uow: UnitOfWork, task: Task, *, at: datetime) -> list[Task]:
    """After `task` left its run: count it met for each of its dependents, releasing those
    it was the last for, or under `cancel_dependents` cancel what waits below its failure;
    then settle the workflow's status, all in the caller's transaction. Returns the tasks
    released, which the caller publishes after the commit (else the relay does).

    Reads only the task's dependents, never the whole workflow: a workflow's end costs the
    same per task however wide it is. The workflow is held first, so two tasks ending at
    once on two workers are decided one after the other: a common dependent is counted by
    each and released by exactly one of them."""
    if task.workflow_id is None or not task.is_terminal:
        return []  # back to pending for a retry: nothing below it changes yet
    workflow = uow.workflows.lock(task.workflow_id)
    if workflow.status is WorkflowStatus.CANCELLED:
        return []  # its cancel ends every task itself
    key = task.workflow_key or str(task.id)
    steps = _graph(uow, workflow.id).after_end(key, task.status, workflow.on_failure)
    released: list[Task] = []
    still_waiting = 0
    if steps.met:
        waited, ready = uow.tasks.meet_dependency(workflow.id, steps.met)
        for below in ready:
            below.release()
            uow.tasks.update(below)
            released.append(below)
        still_waiting = waited - len(ready)
    if steps.cancel:
        what = "failed" if task.status is TaskStatus.FAILED else "was cancelled"
        error = TaskError(UPSTREAM_FAILED, f"task {key!r} {what}")
        for below in uow.tasks.of_workflow(workflow.id, keys=steps.cancel):
            if below.status is TaskStatus.WAITING:
                below.cancel(at=at, error=error)
                uow.tasks.update(below)
    if not released and not still_waiting:
        # A task below that was released or still waits keeps the workflow running; else
        # its last task may have just ended.
        _settle(uow, workflow, at=at)
    return released


# A stored workflow's graph never changes (a retry keeps its keys and dependencies): each
# process keeps the latest ones it built, so a task's end reads statuses only.
_GRAPHS: dict[WorkflowId, Graph] = {}
_GRAPHS_KEPT = 256


def _graph(uow: UnitOfWork, workflow_id: WorkflowId) -> Graph:
    graph = _GRAPHS.get(workflow_id)
    if graph is None:
        graph = Graph(uow.tasks.workflow_nodes(workflow_id), checked=True)
        if len(_GRAPHS) >= _GRAPHS_KEPT:
            _GRAPHS.pop(next(iter(_GRAPHS)))
        _GRAPHS[workflow_id] = graph
    return graph


def _settle(uow: UnitOfWork, workflow: Workflow, *, at: datetime) -> None:
    """The workflow's status once its last task has ended: while any is unfinished it stays
    running, which one indexed probe tells without reading the others."""
    if uow.tasks.workflow_has_unfinished_tasks(workflow.id):
        return
    before = (workflow.status, workflow.completed_at)
    workflow.settle(uow.tasks.workflow_statuses(workflow.id).values(), at=at)
    if (workflow.status, workflow.completed_at) != before:
        uow.workflows.update(workflow)
        if workflow.status.is_terminal and workflow.status is not before[0]:
            record_workflow_event(uow, workflow, at=at)


def waiting_for(uow: UnitOfWork, task: Task) -> list[str]:
    """The keys of the tasks a waiting task still waits for; none for any other task."""
    if task.status is not TaskStatus.WAITING or task.workflow_id is None:
        return []
    parents = uow.tasks.of_workflow(task.workflow_id, keys=set(task.depends_on))
    statuses = {t.workflow_key: t.status for t in parents}
    return [key for key in task.depends_on if statuses.get(key) is not TaskStatus.COMPLETED]


def upstream_of(uow: UnitOfWork, task: Task) -> dict[str, Upstream]:
    """Key -> how each task `task` depends on ended, for the task's function (`ctx.upstream`)."""
    if not task.depends_on or task.workflow_id is None:
        return {}
    return uow.tasks.upstream_of(task.workflow_id, keys=task.depends_on)


@dataclass(frozen=True, slots=True)
class WorkflowView:
    """A workflow with its tasks in topological order, and what each waiting task waits for."""

    workflow: Workflow
    tasks: list[Task]
    waiting: dict[TaskId, list[str]]

    @property
    def progress(self) -> int:
        """The mean of its tasks' progress, in whole percent."""
        if not self.tasks:
            return 0
        return sum(t.progress.percent for t in self.tasks) // len(self.tasks)


def view_of(uow: UnitOfWork, workflow: Workflow) -> WorkflowView:
    tasks = in_topological_order(uow.tasks.of_workflow(workflow.id))
    statuses = {t.workflow_key: t.status for t in tasks}
    waiting = {
        t.id: [k for k in t.depends_on if statuses.get(k) is not TaskStatus.COMPLETED]
        for t in tasks
        if t.status is TaskStatus.WAITING
    }
    return WorkflowView(workflow, tasks, waiting)


def load_workflow(
    uow: UnitOfWork, actor: User, workflow_id: WorkflowId, action: Action
) -> Workflow:
    """The workflow, if `actor` may perform `action` on it; NotFoundError otherwise."""
    return load_owned(
        actor, action, "workflow", workflow_id, lambda: uow.workflows.get(workflow_id)
    )

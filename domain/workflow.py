"""Workflows: tasks joined by dependencies into an acyclic graph, the rules deciding which task
may run next, what a failure cancels below it, and the workflow's aggregate status."""

from __future__ import annotations

import enum
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NewType
from uuid import UUID, uuid4

from domain.errors import InvalidFieldsError, InvalidTransitionError, ValidationError
from domain.task import MAX_NAME_LENGTH, TaskStatus
from domain.text import check_plain_text
from domain.user import UserId

WorkflowId = NewType("WorkflowId", UUID)

DEFAULT_MAX_WORKFLOW_TASKS = 1000
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_UNFINISHED = frozenset({TaskStatus.WAITING, TaskStatus.PENDING, TaskStatus.RUNNING})


class OnFailure(enum.StrEnum):
    """What a failed (or cancelled) task does to the tasks below it."""

    CANCEL_DEPENDENTS = "cancel_dependents"
    CONTINUE = "continue"


class WorkflowStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self is not WorkflowStatus.RUNNING


@dataclass(frozen=True, slots=True)
class Node:
    """One task of a graph: its key and the keys it depends on."""

    key: str
    depends_on: tuple[str, ...] = ()


class Graph:
    """An acyclic graph of task keys. Building one checks it: every key well-formed and
    unique, every dependency a known key other than itself, no cycle, at most `max_tasks`
    nodes. Errors name the field by position (`tasks[3].depends_on`), all at once."""

    def __init__(
        self,
        nodes: Sequence[Node],
        *,
        max_tasks: int = DEFAULT_MAX_WORKFLOW_TASKS,
        checked: bool = False,
    ):
        """`checked=True`: the nodes were checked when the workflow was submitted (a stored
        workflow), so only the edges are built; every task's end builds one."""
        if checked:
            self._build(nodes)
            return
        if not 1 <= len(nodes) <= max_tasks:
            raise ValidationError(
                f"a workflow holds 1 to {max_tasks} tasks, not {len(nodes)}",
                field="tasks",
                limit=max_tasks,
            )
        errors = _node_errors(nodes)
        if errors:
            raise InvalidFieldsError(errors)
        self._build(nodes)
        cycle = self._cycle()
        if cycle:
            # Named from the task submitted first, in the direction the work would flow.
            position = min(self.keys.index(key) for key in cycle)
            start = cycle.index(self.keys[position])
            cycle = cycle[start:] + cycle[:start]
            raise InvalidFieldsError(
                [(f"tasks[{position}].depends_on", "cycle: " + " -> ".join([*cycle, cycle[0]]))]
            )

    def _build(self, nodes: Sequence[Node]) -> None:
        self.keys: tuple[str, ...] = tuple(node.key for node in nodes)
        self._parents = {node.key: tuple(dict.fromkeys(node.depends_on)) for node in nodes}
        self._children: dict[str, list[str]] = {node.key: [] for node in nodes}
        self._order: list[str] | None = None
        for node in nodes:
            for parent in self._parents[node.key]:
                self._children[parent].append(node.key)

    def parents(self, key: str) -> tuple[str, ...]:
        return self._parents[key]

    def children(self, key: str) -> tuple[str, ...]:
        return tuple(self._children[key])

    def below(self, keys: Iterable[str]) -> set[str]:
        """Every key that depends on one of `keys`, directly or not (not `keys` themselves)."""
        seen: set[str] = set()
        queue = deque(keys)
        while queue:
            for child in self._children[queue.popleft()]:
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
        return seen

    def levels(self) -> list[list[str]]:
        """The keys in topological levels: each level depends only on earlier ones, so the
        tasks of one level may run in parallel. Within a level, in the order submitted."""
        depth: dict[str, int] = {}
        for key in self._topological_order():
            depth[key] = 1 + max((depth[p] for p in self._parents[key]), default=-1)
        levels: list[list[str]] = [[] for _ in range(1 + max(depth.values()))]
        for key in self.keys:
            levels[depth[key]].append(key)
        return levels

    def after_end(self, key: str, status: TaskStatus, on_failure: OnFailure) -> Steps:
        """What the end of `key`'s task (in `status`, a terminal one) does to the tasks below
        it. Under `cancel_dependents` a failed or cancelled task cancels every task below it
        that still waits (they can never run). Otherwise each of its direct dependents has one
        more dependency met; one is released when its last is (`Task.dependencies_met`).

        Asked once per end, in the transaction that stores it: an end is a transition of the
        task, which happens once, so no dependency is counted twice."""
        if status is TaskStatus.COMPLETED or on_failure is OnFailure.CONTINUE:
            return Steps(met=self.children(key), cancel=())
        below = self.below([key])
        return Steps(met=(), cancel=tuple(k for k in self._topological_order() if k in below))

    def _topological_order(self) -> list[str]:
        # Built once per graph: a stored workflow's graph is kept and asked at every end.
        if self._order is None:
            self._order = self._sorted_topologically()
        return self._order

    def _sorted_topologically(self) -> list[str]:
        remaining = {key: len(parents) for key, parents in self._parents.items()}
        queue = deque(key for key in self.keys if remaining[key] == 0)
        order: list[str] = []
        while queue:
            key = queue.popleft()
            order.append(key)
            for child in self._children[key]:
                remaining[child] -= 1
                if remaining[child] == 0:
                    queue.append(child)
        return order

    def _cycle(self) -> list[str] | None:
        """One cycle's keys in order, or None. Iterative: a chain of 1,000 is no recursion."""
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(self.keys, white)
        for root in self.keys:
            if colour[root] != white:
                continue
            path: list[str] = [root]
            iterators = [iter(self._parents[root])]
            colour[root] = grey
            while iterators:
                parent = next(iterators[-1], None)
                if parent is None:
                    colour[path.pop()] = black
                    iterators.pop()
                elif colour[parent] == grey:
                    cycle = path[path.index(parent) :]
                    return list(reversed(cycle))  # parent first, as the work would flow
                elif colour[parent] == white:
                    colour[parent] = grey
                    path.append(parent)
                    iterators.append(iter(self._parents[parent]))
        return None


@dataclass(frozen=True, slots=True)
class Steps:
    met: tuple[str, ...]  # dependents with one more dependency met
    cancel: tuple[str, ...]  # tasks below a failure, to cancel if they still wait


def _node_errors(nodes: Sequence[Node]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    first: dict[str, int] = {}
    for n, node in enumerate(nodes):
        if not _KEY.fullmatch(node.key):
            errors.append((f"tasks[{n}].key", "must be 1 to 100 letters, digits, '_', '.' or '-'"))
        elif node.key in first:
            errors.append(
                (f"tasks[{n}].key", f"duplicate key {node.key!r} (tasks[{first[node.key]}])")
            )
        else:
            first[node.key] = n
    keys = {node.key for node in nodes}
    for n, node in enumerate(nodes):
        for dependency in node.depends_on:
            if dependency == node.key:
                errors.append((f"tasks[{n}].depends_on", "a task cannot depend on itself"))
            elif dependency not in keys:
                errors.append((f"tasks[{n}].depends_on", f"unknown key {dependency!r}"))
    return errors


def aggregate_status(statuses: Iterable[TaskStatus], *, cancelled: bool) -> WorkflowStatus:
    """Running while any task is unfinished; then completed when all completed, failed when
    any failed, else cancelled. A workflow the client cancelled is cancelled."""
    if cancelled:
        return WorkflowStatus.CANCELLED
    seen = set(statuses)
    if seen & _UNFINISHED:
        return WorkflowStatus.RUNNING
    if seen <= {TaskStatus.COMPLETED}:
        return WorkflowStatus.COMPLETED
    if TaskStatus.FAILED in seen:
        return WorkflowStatus.FAILED
    return WorkflowStatus.CANCELLED


@dataclass(eq=False, kw_only=True)
class Workflow:
    """A named graph of one user's tasks; the tasks themselves are ordinary tasks that name
    their workflow. Its status follows theirs (`settle`), except that a client's cancel is
    final."""

    id: WorkflowId
    name: str
    user_id: UserId
    created_at: datetime
    on_failure: OnFailure = OnFailure.CANCEL_DEPENDENTS
    status: WorkflowStatus = WorkflowStatus.RUNNING
    completed_at: datetime | None = None

    @classmethod
    def submit(
        cls,
        *,
        name: str,
        user_id: UserId,
        at: datetime,
        on_failure: OnFailure = OnFailure.CANCEL_DEPENDENTS,
        workflow_id: WorkflowId | None = None,
    ) -> Workflow:
        stripped = check_plain_text(name, field="name").strip()
        if not stripped:
            raise ValidationError("name must not be blank", field="name")
        if len(stripped) > MAX_NAME_LENGTH:
            raise ValidationError(
                f"name must be at most {MAX_NAME_LENGTH} characters", field="name"
            )
        return cls(
            id=workflow_id or WorkflowId(uuid4()),
            name=stripped,
            user_id=user_id,
            created_at=at,
            on_failure=on_failure,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workflow) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def settle(self, statuses: Iterable[TaskStatus], *, at: datetime) -> None:
        """Follow the tasks' statuses; a cancelled workflow stays cancelled."""
        status = aggregate_status(statuses, cancelled=self.status is WorkflowStatus.CANCELLED)
        self.status = status
        self.completed_at = (self.completed_at or at) if status.is_terminal else None

    def cancel(self, *, at: datetime) -> None:
        if self.is_terminal:
            raise InvalidTransitionError(
                "workflow", self.status.value, "cancelled", workflow_id=str(self.id)
            )
        self.status = WorkflowStatus.CANCELLED
        self.completed_at = at

    def resume(self) -> None:
        """Run again: its failed and cancelled tasks get new attempts."""
        if self.status not in (WorkflowStatus.FAILED, WorkflowStatus.CANCELLED):
            raise InvalidTransitionError(
                "workflow", self.status.value, "running", workflow_id=str(self.id)
            )
        self.status = WorkflowStatus.RUNNING
        self.completed_at = None

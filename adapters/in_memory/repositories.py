"""Dict-backed repositories that behave like the SQL ones: copies out, compare-and-set in."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from adapters.in_memory.events import EventStore
from adapters.in_memory.table import InMemoryTable
from adapters.in_memory.webhooks import WebhookStore
from application.errors import FencedOffError
from application.ports import (
    Cursor,
    HeldGroup,
    ModelQuery,
    ModelRepository,
    QueueLoad,
    ScheduleFireRepository,
    ScheduleQuery,
    ScheduleRepository,
    TaskQuery,
    TaskRepository,
    Upstream,
    UserRepository,
    WorkflowQuery,
    WorkflowRepository,
)
from domain.attempt import Attempt, TaskLogLine
from domain.errors import AlreadyExistsError
from domain.flow import HoldReason, release_rank
from domain.model import Model, ModelId
from domain.schedule import Fire, Schedule, ScheduleId
from domain.task import (
    ACTIVE_STATUSES,
    Priority,
    RunCompletion,
    RunStart,
    Task,
    TaskId,
    TaskStatus,
)
from domain.user import Email, User, UserId
from domain.workflow import Node, Workflow, WorkflowId

R = TypeVar("R", Task, User, Model, Schedule, Workflow)


@dataclass
class InMemoryStore:
    """What has been committed: shared by every unit of work of one test."""

    tasks: dict[TaskId, Task] = field(default_factory=dict)
    users: dict[UserId, User] = field(default_factory=dict)
    models: dict[ModelId, Model] = field(default_factory=dict)
    events: EventStore = field(default_factory=EventStore)
    schedules: dict[ScheduleId, Schedule] = field(default_factory=dict)
    schedule_fires: dict[tuple[ScheduleId, datetime], Fire] = field(default_factory=dict)
    workflows: dict[WorkflowId, Workflow] = field(default_factory=dict)
    attempts: dict[tuple[TaskId, int], Attempt] = field(default_factory=dict)
    task_logs: dict[TaskId, list[TaskLogLine]] = field(default_factory=dict)
    webhooks: WebhookStore = field(default_factory=WebhookStore)


def newest_first(rows: Iterable[R], after: Cursor | None, limit: int) -> list[R]:
    ordered = sorted(rows, key=lambda r: (r.created_at, str(r.id)), reverse=True)
    if after is not None:
        position = (after.created_at, after.id)
        ordered = [r for r in ordered if (r.created_at, str(r.id)) < position]
    return ordered[:limit]


class InMemoryTaskRepository(TaskRepository):
    def __init__(self, table: InMemoryTable[TaskId, Task]) -> None:
        self._table = table

    def add(self, task: Task) -> None:
        self._table.add(task.id, task)

    def add_many(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            self._table.add(task.id, task)

    def get(self, task_id: TaskId) -> Task:
        return self._table.get(task_id)

    def start_run(self, task_id: TaskId, start: RunStart) -> Task:
        task = self.get(task_id)
        start.on(task)
        self.update(task)
        return task

    def complete_run(self, task_id: TaskId, completion: RunCompletion) -> Task:
        task = self.get(task_id)
        completion.on(task)
        self.update(task)
        return task

    def update(self, task: Task) -> None:
        self._table.update(task.id, task)

    def update_many(self, tasks: Sequence[Task]) -> None:
        for task in tasks:
            self._table.update(task.id, task)

    def delete(self, task: Task) -> None:
        self._table.delete(task.id)

    def find(self, query: TaskQuery) -> list[Task]:
        rows = (
            t
            for t in self._table.rows()
            if (query.owner_id is None or t.user_id == query.owner_id)
            and (query.status is None or t.status is query.status)
            and (query.task_type is None or t.task_type == query.task_type)
            and (query.priority is None or t.priority is query.priority)
            and (query.model_id is None or t.model_id == query.model_id)
            and (query.name_contains is None or query.name_contains.casefold() in t.name.casefold())
            and (query.created_after is None or t.created_at > query.created_after)
            and (query.created_before is None or t.created_at < query.created_before)
            and (query.schedule_id is None or t.schedule_id == query.schedule_id)
        )
        return [self._table.loaded(t, t.id) for t in newest_first(rows, query.after, query.limit)]

    def count_active(self, owner_id: UserId, *, up_to: int | None = None) -> int:
        active = sum(
            1 for t in self._table.rows() if t.user_id == owner_id and t.status in ACTIVE_STATUSES
        )
        return active if up_to is None else min(active, up_to)

    def count_by_status(self) -> dict[TaskStatus, int]:
        return dict(Counter(t.status for t in self._table.rows()))

    def mark_dispatched(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None:
        for task_id in task_ids:
            self._table.force(task_id, dispatched=True, due_at=due_at)

    def oldest_waiting_by_queue(self) -> dict[str, datetime]:
        oldest: dict[str, datetime] = {}
        for t in self._table.rows():
            if t.status is TaskStatus.PENDING:
                at = t.due_at or t.created_at
                oldest[t.queue] = min(oldest.get(t.queue, at), at)
        return oldest

    def count_active_by_queue(self) -> dict[str, int]:
        active = (TaskStatus.PENDING, TaskStatus.RUNNING)
        return dict(Counter(t.queue for t in self._table.rows() if t.status in active))

    def count_undispatched(self) -> int:
        return sum(
            1 for t in self._table.rows() if t.status is TaskStatus.PENDING and not t.dispatched
        )

    def count_overdue(self, *, due_before: datetime) -> dict[str, int]:
        return dict(Counter(t.queue for t in self._overdue(due_before)))

    def list_overdue(self, *, queue: str, due_before: datetime, limit: int) -> list[Task]:
        rows = sorted(
            (t for t in self._overdue(due_before) if t.queue == queue),
            key=lambda t: t.due_at or due_before,
        )
        return [self._table.loaded(t, t.id) for t in rows[:limit]]

    def _overdue(self, due_before: datetime) -> list[Task]:
        return [
            t
            for t in self._table.rows()
            if t.status is TaskStatus.PENDING
            and t.dispatched
            and t.held is None
            and t.due_at is not None
            and t.due_at < due_before
        ]

    def list_undispatched(self, *, created_before: datetime, limit: int) -> list[Task]:
        rows = sorted(
            (
                t
                for t in self._table.rows()
                if t.status is TaskStatus.PENDING
                and not t.dispatched
                and t.held is None
                and (t.run_at or t.created_at) < created_before
            ),
            key=lambda t: t.created_at,
        )
        return [self._table.loaded(t, t.id) for t in rows[:limit]]

    def mark_pending_undispatched(self) -> int:
        marked = [
            t.id
            for t in self._table.rows()
            if t.status is TaskStatus.PENDING and t.dispatched and t.held is None
        ]
        for task_id in marked:
            self._table.force(task_id, dispatched=False)
        return len(marked)

    def list_due_delayed(self, *, now: datetime, limit: int) -> list[Task]:
        rows = sorted(
            (
                t
                for t in self._table.rows()
                if t.status is TaskStatus.PENDING
                and not t.dispatched
                and t.held is None
                and t.run_at is not None
                and t.run_at <= now
            ),
            key=lambda t: (t.run_at or now, str(t.id)),
        )
        return [self._table.loaded(t, t.id) for t in rows[:limit]]

    def list_unfinished_of_schedule(self, schedule_id: ScheduleId) -> list[Task]:
        rows = sorted(
            (
                t
                for t in self._table.rows()
                if t.schedule_id == schedule_id and t.status in ACTIVE_STATUSES
            ),
            key=lambda t: (t.created_at, str(t.id)),
        )
        return [self._table.loaded(t, t.id) for t in rows]

    def list_stale_running(self, *, heartbeat_before: datetime, limit: int) -> list[Task]:
        rows = sorted(
            (
                t
                for t in self._table.rows()
                if t.status is TaskStatus.RUNNING
                and t.heartbeat_at is not None
                and t.heartbeat_at < heartbeat_before
            ),
            key=lambda t: t.heartbeat_at or t.created_at,
        )
        return [self._table.loaded(t, t.id) for t in rows[:limit]]

    def hold_stale_running(
        self, task_ids: Collection[TaskId], *, heartbeat_before: datetime
    ) -> list[Task]:
        wanted = set(task_ids)
        rows = sorted(
            (
                t
                for t in self._table.rows()
                if t.id in wanted
                and t.status is TaskStatus.RUNNING
                and t.heartbeat_at is not None
                and t.heartbeat_at < heartbeat_before
            ),
            key=lambda t: str(t.id),
        )
        return [self._table.loaded(t, t.id) for t in rows]

    def lock_concurrency_key(self, key: str) -> None:
        """Nothing to hold: an in-memory unit of work serves one test's thread."""

    def count_slot_holders(self, key: str) -> int:
        return sum(
            1
            for t in self._table.rows()
            if t.concurrency is not None and t.concurrency.key == key and t.holds_slot
        )

    def queue_loads(self) -> list[QueueLoad]:
        groups: dict[tuple[str, TaskStatus, str | None], list[Task]] = {}
        for t in self._table.rows():
            if t.status in ACTIVE_STATUSES:
                held = t.held.value if t.held else None
                groups.setdefault((t.queue, t.status, held), []).append(t)
        return QueueLoad.add_up(
            [
                (queue, status, held, len(tasks), min(t.created_at for t in tasks))
                for (queue, status, held), tasks in groups.items()
            ]
        )

    def count_queued_ahead(self, task: Task) -> int:
        return sum(
            1
            for t in self._table.rows()
            if t.status is TaskStatus.PENDING
            and t.dispatched
            and t.held is None
            and t.queue == task.queue
            and t.due_at is not None
            and task.due_at is not None
            and t.due_at < task.due_at
        )

    def list_held(self, key: str, *, limit: int) -> list[Task]:
        rows = sorted(
            (
                t
                for t in self._table.rows()
                if t.concurrency is not None
                and t.concurrency.key == key
                and t.status is TaskStatus.PENDING
                and t.held is not None
            ),
            key=lambda t: (*release_rank(t.priority.value, t.created_at), str(t.id)),
        )
        return [self._table.loaded(t, t.id) for t in rows[:limit]]

    def count_held_before(
        self, task: Task, *, owner_id: UserId | None = None, task_type: str | None = None
    ) -> int:
        return sum(
            1
            for t in self._table.rows()
            if t.status is TaskStatus.PENDING
            and task.held is not None
            and t.held is task.held
            and t.priority is task.priority
            and (owner_id is None or t.user_id == owner_id)
            and (task_type is None or t.task_type == task_type)
            and (t.created_at, str(t.id)) < (task.created_at, str(task.id))
        )

    def held_groups(self, reason: HoldReason) -> list[HeldGroup]:
        counts = Counter(
            (t.priority, t.user_id, t.task_type)
            for t in self._table.rows()
            if t.status is TaskStatus.PENDING and t.held is reason
        )
        return [HeldGroup(p, owner, task_type, n) for (p, owner, task_type), n in counts.items()]

    def list_held_for(
        self,
        reason: HoldReason,
        *,
        priority: Priority,
        owner_id: UserId | None = None,
        task_type: str | None = None,
        limit: int,
    ) -> list[Task]:
        rows = sorted(
            (
                t
                for t in self._table.rows()
                if t.status is TaskStatus.PENDING
                and t.held is reason
                and t.priority is priority
                and (owner_id is None or t.user_id == owner_id)
                and (task_type is None or t.task_type == task_type)
            ),
            key=lambda t: (t.created_at, str(t.id)),
        )
        return [self._table.loaded(t, t.id) for t in rows[:limit]]

    def delete_finished_before(self, cutoff: datetime, *, limit: int) -> int:
        doomed = sorted(
            (
                t
                for t in self._table.rows()
                if t.is_terminal
                and t.workflow_id is None
                and t.completed_at is not None
                and t.completed_at < cutoff
            ),
            key=lambda t: t.completed_at or cutoff,
        )[:limit]
        for task in doomed:
            self._table.delete(task.id)
        return len(doomed)

    def of_workflow(
        self, workflow_id: WorkflowId, *, keys: Collection[str] | None = None
    ) -> list[Task]:
        return [
            self._table.loaded(t, t.id)
            for t in self._table.rows()
            if t.workflow_id == workflow_id and (keys is None or t.workflow_key in keys)
        ]

    def workflow_statuses(self, workflow_id: WorkflowId) -> dict[str, TaskStatus]:
        return {
            t.workflow_key or str(t.id): t.status
            for t in self._table.rows()
            if t.workflow_id == workflow_id
        }

    def upstream_of(self, workflow_id: WorkflowId, *, keys: Collection[str]) -> dict[str, Upstream]:
        return {
            t.workflow_key: Upstream(
                status=t.status.value, result=t.result, error=str(t.error) if t.error else None
            )
            for t in self.of_workflow(workflow_id, keys=keys)
            if t.workflow_key is not None
        }

    def meet_dependency(
        self, workflow_id: WorkflowId, keys: Collection[str]
    ) -> tuple[int, list[Task]]:
        waiting = [
            t
            for t in self._table.rows()
            if t.workflow_id == workflow_id
            and t.workflow_key in keys
            and t.status is TaskStatus.WAITING
            and t.unmet_dependencies > 0
        ]
        for task in waiting:  # counted in place, as the SQL statement does
            self._table.force(task.id, unmet_dependencies=task.unmet_dependencies - 1)
        ready = [t.id for t in waiting if t.unmet_dependencies == 1]
        return len(waiting), [self._table.get(task_id) for task_id in ready]

    def workflow_has_unfinished_tasks(self, workflow_id: WorkflowId) -> bool:
        return any(t.workflow_id == workflow_id and not t.is_terminal for t in self._table.rows())

    def workflow_nodes(self, workflow_id: WorkflowId) -> list[Node]:
        return [
            Node(t.workflow_key or str(t.id), tuple(t.depends_on))
            for t in sorted(self._table.rows(), key=lambda t: t.workflow_key or "")
            if t.workflow_id == workflow_id
        ]


class InMemoryUserRepository(UserRepository):
    def __init__(self, table: InMemoryTable[UserId, User]) -> None:
        self._table = table

    def add(self, user: User) -> None:
        if self.find_by_email(user.email) is not None:
            raise AlreadyExistsError(
                f"a user with email {user.email} already exists", field="email"
            )
        self._table.add(user.id, user)

    def get(self, user_id: UserId) -> User:
        return self._table.get(user_id)

    def find_by_email(self, email: Email) -> User | None:
        found = next((u for u in self._table.rows() if u.email == email), None)
        return self._table.loaded(found, found.id) if found else None

    def update(self, user: User) -> None:
        self._table.update(user.id, user)

    def lock(self, user_id: UserId) -> User:
        """Nothing to hold (one test's thread); a missing user is still an error."""
        return self._table.get(user_id)

    def find(self, *, after: Cursor | None, limit: int) -> list[User]:
        return [self._table.loaded(u, u.id) for u in newest_first(self._table.rows(), after, limit)]

    def share_weights(self, user_ids: Collection[UserId]) -> dict[UserId, int]:
        wanted = set(user_ids)
        return {u.id: u.share_weight for u in self._table.rows() if u.id in wanted}


class InMemoryModelRepository(ModelRepository):
    def __init__(
        self, table: InMemoryTable[ModelId, Model], tasks: InMemoryTable[TaskId, Task]
    ) -> None:
        self._table = table
        self._tasks = tasks

    def add(self, model: Model) -> None:
        self._check_name_free(model)
        self._table.add(model.id, model)

    def get(self, model_id: ModelId) -> Model:
        return self._table.get(model_id)

    def update(self, model: Model) -> None:
        self._check_name_free(model)
        self._table.update(model.id, model)

    def delete(self, model: Model) -> None:
        self._table.delete(model.id)
        # Mirrors the foreign key's ON DELETE SET NULL: past tasks stay, unlinked.
        for task in list(self._tasks.rows()):
            if task.model_id == model.id:
                self._tasks.force(task.id, model_id=None)

    def find(self, query: ModelQuery) -> list[Model]:
        rows = (
            m
            for m in self._table.rows()
            if (query.owner_id is None or m.user_id == query.owner_id)
            and (query.status is None or m.status is query.status)
        )
        return [self._table.loaded(m, m.id) for m in newest_first(rows, query.after, query.limit)]

    def _check_name_free(self, model: Model) -> None:
        for other in self._table.rows():
            if other.id != model.id and other.user_id == model.user_id and other.name == model.name:
                raise AlreadyExistsError(
                    f"you already have a model named {model.name!r}", field="name"
                )


def schedule_version(schedule: Schedule) -> object:
    """What the SQL adapter's version number stands for: any write since the read."""
    return (
        schedule.fence,
        schedule.runs,
        schedule.next_fire_at,
        schedule.paused,
        schedule.updated_at,
    )


class InMemoryScheduleRepository(ScheduleRepository):
    def __init__(self, table: InMemoryTable[ScheduleId, Schedule]) -> None:
        self._table = table

    def add(self, schedule: Schedule) -> None:
        self._table.add(schedule.id, schedule)

    def get(self, schedule_id: ScheduleId) -> Schedule:
        return self._table.get(schedule_id)

    def update(self, schedule: Schedule) -> None:
        stored = next((s for s in self._table.rows() if s.id == schedule.id), None)
        if stored is not None and stored.fence > schedule.fence:
            raise FencedOffError(
                f"schedule {schedule.id} was written under a newer lease ({stored.fence})",
                schedule_id=str(schedule.id),
            )
        self._table.update(schedule.id, schedule)

    def delete(self, schedule: Schedule) -> None:
        self._table.delete(schedule.id)

    def find(self, query: ScheduleQuery) -> list[Schedule]:
        rows = (
            s for s in self._table.rows() if query.owner_id is None or s.user_id == query.owner_id
        )
        return [self._table.loaded(s, s.id) for s in newest_first(rows, query.after, query.limit)]

    def count_of_owner(self, owner_id: UserId) -> int:
        return sum(1 for s in self._table.rows() if s.user_id == owner_id)

    def list_due(self, *, now: datetime, limit: int) -> list[Schedule]:
        rows = sorted(
            (
                s
                for s in self._table.rows()
                if not s.paused and s.next_fire_at is not None and s.next_fire_at <= now
            ),
            key=lambda s: (s.next_fire_at or now, str(s.id)),
        )
        return [self._table.loaded(s, s.id) for s in rows[:limit]]

    def raise_fence(self, *, at_least: int) -> int:
        schedules = list(self._table.rows())
        fence = max(at_least, max((s.fence for s in schedules), default=0) + 1)
        for schedule in schedules:
            if schedule.fence < fence:
                self._table.force(schedule.id, fence=fence)
        return fence


class InMemoryScheduleFireRepository(ScheduleFireRepository):
    def __init__(self, table: InMemoryTable[tuple[ScheduleId, datetime], Fire]) -> None:
        self._table = table

    def add_many(self, fires: Sequence[Fire]) -> None:
        for fire in fires:
            self._table.add((fire.schedule_id, fire.fire_time), fire)

    def find(self, schedule_id: ScheduleId, *, before: datetime | None, limit: int) -> list[Fire]:
        rows = sorted(
            (
                f
                for f in self._table.rows()
                if f.schedule_id == schedule_id and (before is None or f.fire_time < before)
            ),
            key=lambda f: f.fire_time,
            reverse=True,
        )
        return rows[:limit]


class InMemoryWorkflowRepository(WorkflowRepository):
    def __init__(
        self, table: InMemoryTable[WorkflowId, Workflow], tasks: InMemoryTable[TaskId, Task]
    ) -> None:
        self._table = table
        self._tasks = tasks

    def add(self, workflow: Workflow) -> None:
        self._table.add(workflow.id, workflow)

    def get(self, workflow_id: WorkflowId) -> Workflow:
        return self._table.get(workflow_id)

    def lock(self, workflow_id: WorkflowId) -> Workflow:
        """Nothing to hold (one test's thread); a missing workflow is still an error."""
        return self._table.get(workflow_id)

    def update(self, workflow: Workflow) -> None:
        self._table.update(workflow.id, workflow)

    def delete(self, workflow: Workflow) -> None:
        self._table.delete(workflow.id)
        # Mirrors the foreign key's ON DELETE CASCADE.
        for task in list(self._tasks.rows()):
            if task.workflow_id == workflow.id:
                self._tasks.delete(task.id)

    def find(self, query: WorkflowQuery) -> list[Workflow]:
        rows = (
            w
            for w in self._table.rows()
            if (query.owner_id is None or w.user_id == query.owner_id)
            and (query.status is None or w.status is query.status)
        )
        return [self._table.loaded(w, w.id) for w in newest_first(rows, query.after, query.limit)]

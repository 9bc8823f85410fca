"""The SQL task repository, through Core on the tasks table: its INSERTs and the claim's
reads are the hot paths, and skipping the ORM's identity map and flush took a quarter of the
time of each (profiled under load)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, cast

from sqlalchemy import (
    Connection,
    Row,
    Table,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from adapters.sqlalchemy.compare_and_set import (
    lost_race,
    rows_written,
    write_changes,
    write_many_changes,
)
from adapters.sqlalchemy.driver_statements import DriverStatement
from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.keyset import newest_first
from adapters.sqlalchemy.mapping import task_from_row, task_values
from adapters.sqlalchemy.tables import PENDING, TaskRow
from application.ports import HeldGroup, QueueLoad, TaskQuery, TaskRepository, Upstream
from domain.errors import ConcurrencyConflictError, NotFoundError
from domain.flow import HoldReason
from domain.schedule import ScheduleId
from domain.task import (
    ACTIVE_STATUSES,
    Priority,
    RunCompletion,
    RunStart,
    Task,
    TaskId,
    TaskStatus,
)
from domain.user import UserId
from domain.workflow import Node, WorkflowId

_TASKS = cast(Table, TaskRow.__table__)
_COLUMNS = _TASKS.c
# Seeds the hash of concurrency keys' advisory locks, apart from any other advisory lock.
_KEY_LOCK_SEED = 0x7461736B
# Built once: a run reads its task twice, and building the statement cost more than
# SQLite's running it.
_UPSTREAM = select(
    _COLUMNS.workflow_key,
    _COLUMNS.status,
    _COLUMNS.result,
    _COLUMNS.error_type,
    _COLUMNS.error_message,
).where(
    _COLUMNS.workflow_id == bindparam("of_workflow"),
    _COLUMNS.workflow_key.in_(bindparam("keys", expanding=True)),
)
_MEET_DEPENDENCY = (
    update(_TASKS)
    .where(
        _COLUMNS.workflow_id == bindparam("of_workflow"),
        _COLUMNS.workflow_key.in_(bindparam("keys", expanding=True)),
        _COLUMNS.status == TaskStatus.WAITING.value,
        _COLUMNS.unmet_dependencies > 0,
    )
    .values(unmet_dependencies=_COLUMNS.unmet_dependencies - 1)
    .returning(_COLUMNS.id, _COLUMNS.unmet_dependencies)
)
_UNFINISHED_IN_WORKFLOW = (
    select(literal(1))
    .where(
        _COLUMNS.workflow_id == bindparam("workflow_id"),
        _COLUMNS.status.in_([s.value for s in TaskStatus if not s.is_terminal]),
    )
    .limit(1)
)
# A run's start in one statement (`RunStart`): the values `Task.start` sets.
_START_RUN = DriverStatement(
    update(_TASKS)
    .where(
        _COLUMNS.id == bindparam("task_id"),
        _COLUMNS.status.in_([status.value for status in RunStart.FROM]),
    )
    .values(
        status=TaskStatus.RUNNING.value,
        run_token=bindparam("new_run_token", type_=_COLUMNS.run_token.type),
        worker_host=bindparam("new_worker_host", type_=_COLUMNS.worker_host.type),
        worker_pid=bindparam("new_worker_pid", type_=_COLUMNS.worker_pid.type),
        attempts=_COLUMNS.attempts + 1,
        started_at=bindparam("started", type_=_COLUMNS.started_at.type),
        heartbeat_at=bindparam("started", type_=_COLUMNS.heartbeat_at.type),
        progress=0,
        progress_message=None,
        dispatched=True,
    )
    .returning(*_COLUMNS)
)
# A run's completion in one statement (`RunCompletion`): the values `Task.complete` sets.
_COMPLETE_RUN = DriverStatement(
    update(_TASKS)
    .where(
        _COLUMNS.id == bindparam("task_id"),
        _COLUMNS.status == TaskStatus.RUNNING.value,
        _COLUMNS.run_token == bindparam("current_run_token", type_=_COLUMNS.run_token.type),
    )
    .values(
        status=TaskStatus.COMPLETED.value,
        result=bindparam("new_result", type_=_COLUMNS.result.type),
        error_type=None,
        error_message=None,
        error_traceback=None,
        progress=100,
        progress_message=bindparam("new_progress_message", type_=_COLUMNS.progress_message.type),
        completed_at=bindparam("ended", type_=_COLUMNS.completed_at.type),
        run_token=None,
    )
    .returning(*_COLUMNS)
)
_BY_ID = select(_TASKS).where(_COLUMNS.id == bindparam("task_id"))
# A submission's statements, on the driver's cursor like the run's.
_ADD = DriverStatement(insert(_TASKS))
_ACTIVE = select(_COLUMNS.id).where(
    _COLUMNS.user_id == bindparam("owner_id"),
    _COLUMNS.status.in_([status.value for status in ACTIVE_STATUSES]),
)
_COUNT_ACTIVE = DriverStatement(select(func.count()).select_from(_ACTIVE.subquery()))
_COUNT_ACTIVE_UP_TO = DriverStatement(
    select(func.count()).select_from(_ACTIVE.limit(bindparam("up_to")).subquery())
)


class SqlAlchemyTaskRepository(TaskRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._loaded: dict[TaskId, dict[str, Any]] = {}

    def add(self, task: Task) -> None:
        values = task_values(task)
        with unique_violations_as_already_exists("task"):
            _ADD.execute(self._connection, values)
        self._loaded[task.id] = values

    def add_many(self, tasks: Sequence[Task]) -> None:
        if not tasks:
            return
        loaded = {task.id: task_values(task) for task in tasks}
        # One executemany.
        with unique_violations_as_already_exists("task"):
            self._connection.execute(insert(_TASKS), [dict(values) for values in loaded.values()])
        self._loaded.update(loaded)

    def get(self, task_id: TaskId) -> Task:
        row = self._connection.execute(_BY_ID, {"task_id": task_id}).first()
        if row is None:
            raise NotFoundError(f"task {task_id} not found", task_id=str(task_id))
        return self._remember(row)

    def start_run(self, task_id: TaskId, start: RunStart) -> Task:
        worker = start.worker
        rows = _START_RUN.execute(
            self._connection,
            {
                "task_id": task_id,
                "new_run_token": start.run_token,
                "new_worker_host": worker.host if worker else None,
                "new_worker_pid": worker.pid if worker else None,
                "started": start.at,
            },
        )
        if not rows:
            self._refuse(task_id, start.on)
        return self._remember(rows[0])

    def complete_run(self, task_id: TaskId, completion: RunCompletion) -> Task:
        rows = _COMPLETE_RUN.execute(
            self._connection,
            {
                "task_id": task_id,
                "current_run_token": completion.run_token,
                "new_result": completion.result,
                "new_progress_message": completion.message,
                "ended": completion.at,
            },
        )
        if not rows:
            self._refuse(task_id, completion.on)
        return self._remember(rows[0])

    def _refuse(self, task_id: TaskId, transition: Callable[[Task], None]) -> NoReturn:
        """A one-statement transition matched no row: the task as it is now, and the
        domain's own refusal of the transition on it (else it changed in between)."""
        task = self.get(task_id)  # NotFoundError if it is gone
        transition(task)
        raise lost_race(self._connection, TaskRow, task_id, "task")

    def update(self, task: Task) -> None:
        loaded = self._loaded.get(task.id)
        if loaded is None:  # never read through this repository: nothing to compare with
            raise lost_race(self._connection, TaskRow, task.id, "task")
        current = task_values(task)
        guard = ("status", "run_token")
        if not write_changes(
            self._connection, TaskRow, loaded=loaded, current=current, guard=guard
        ):
            raise lost_race(self._connection, TaskRow, task.id, "task")
        self._loaded[task.id] = current

    def update_many(self, tasks: Sequence[Task]) -> None:
        changes = []
        for task in tasks:
            loaded = self._loaded.get(task.id)
            if loaded is None:
                raise lost_race(self._connection, TaskRow, task.id, "task")
            changes.append((loaded, task_values(task)))
        written = write_many_changes(
            self._connection, TaskRow, changes, guard=("status", "run_token")
        )
        if written != len(changes):
            raise ConcurrencyConflictError(
                f"{len(changes) - written} of {len(changes)} tasks were changed by another "
                "writer or deleted"
            )
        for _, current in changes:
            self._loaded[current["id"]] = current

    def delete(self, task: Task) -> None:
        statement = delete(_TASKS).where(_COLUMNS.id == task.id)
        self._connection.execute(statement)
        self._loaded.pop(task.id, None)

    def find(self, query: TaskQuery) -> list[Task]:
        filters = {
            _COLUMNS.user_id: query.owner_id,
            _COLUMNS.status: query.status and query.status.value,
            _COLUMNS.task_type: query.task_type,
            _COLUMNS.priority: query.priority and query.priority.value,
            _COLUMNS.model_id: query.model_id,
            _COLUMNS.schedule_id: query.schedule_id,
        }
        statement = select(_TASKS).where(
            *(column == value for column, value in filters.items() if value is not None)
        )
        if query.name_contains is not None:
            # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite; % and _ match themselves.
            statement = statement.where(
                _COLUMNS.name.icontains(query.name_contains, autoescape=True)
            )
        if query.created_after is not None:
            statement = statement.where(_COLUMNS.created_at > query.created_after)
        if query.created_before is not None:
            statement = statement.where(_COLUMNS.created_at < query.created_before)
        statement = newest_first(
            statement,
            created_at=_COLUMNS.created_at,
            id_=_COLUMNS.id,
            after=query.after,
            limit=query.limit,
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def count_active(self, owner_id: UserId, *, up_to: int | None = None) -> int:
        if up_to is None:
            ((count,),) = _COUNT_ACTIVE.execute(self._connection, {"owner_id": owner_id})
        else:
            ((count,),) = _COUNT_ACTIVE_UP_TO.execute(
                self._connection, {"owner_id": owner_id, "up_to": up_to}
            )
        return int(count)

    def count_by_status(self) -> dict[TaskStatus, int]:
        statement = select(_COLUMNS.status, func.count()).group_by(_COLUMNS.status)
        return {TaskStatus(status): count for status, count in self._connection.execute(statement)}

    def mark_dispatched(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None:
        if task_ids:
            statement = (
                update(_TASKS)
                .where(_COLUMNS.id.in_(task_ids))
                .values(dispatched=True, due_at=due_at)
            )
            self._connection.execute(statement)

    def list_undispatched(self, *, created_before: datetime, limit: int) -> list[Task]:
        statement = (
            select(_TASKS)
            .where(
                PENDING,
                _COLUMNS.dispatched == false(),
                _COLUMNS.held.is_(None),
                # A delayed task is not undispatched before its run_at: it waits by design.
                func.coalesce(_COLUMNS.run_at, _COLUMNS.created_at) < created_before,
            )
            .order_by(_COLUMNS.created_at, _COLUMNS.id)
            .limit(limit)
            # PostgreSQL: concurrent relays skip the rows another is publishing. SQLite
            # renders nothing here; its writers are serialised anyway.
            .with_for_update(skip_locked=True)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def mark_pending_undispatched(self) -> int:
        statement = (
            update(_TASKS)
            .where(
                PENDING,
                _COLUMNS.dispatched == true(),
                _COLUMNS.held.is_(None),
            )
            .values(dispatched=False)
        )
        return rows_written(self._connection, statement)

    def oldest_waiting_by_queue(self) -> dict[str, datetime]:
        since = func.min(func.coalesce(_COLUMNS.due_at, _COLUMNS.created_at))
        statement = (
            select(_COLUMNS.priority, since)
            .where(_COLUMNS.status == TaskStatus.PENDING.value)
            .group_by(_COLUMNS.priority)
        )
        oldest: dict[str, datetime] = {}
        for priority, at in self._connection.execute(statement):
            at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite keeps no zone
            queue = Priority(priority).queue
            oldest[queue] = min(oldest.get(queue, at), at)
        return oldest

    def count_active_by_queue(self) -> dict[str, int]:
        statement = (
            select(_COLUMNS.priority, func.count())
            .where(_COLUMNS.status.in_([TaskStatus.PENDING.value, TaskStatus.RUNNING.value]))
            .group_by(_COLUMNS.priority)
        )
        counts: dict[str, int] = {}
        for priority, count in self._connection.execute(statement):
            queue = Priority(priority).queue
            counts[queue] = counts.get(queue, 0) + count
        return counts

    def count_undispatched(self) -> int:
        statement = select(func.count()).where(PENDING, _COLUMNS.dispatched == false())
        return int(self._connection.scalar(statement) or 0)

    def count_overdue(self, *, due_before: datetime) -> dict[str, int]:
        statement = (
            select(_COLUMNS.priority, func.count())
            .where(*_overdue(due_before))
            .group_by(_COLUMNS.priority)
        )
        return {
            Priority(priority).queue: count
            for priority, count in self._connection.execute(statement)
        }

    def list_overdue(self, *, queue: str, due_before: datetime, limit: int) -> list[Task]:
        priorities = [p.value for p in Priority if p.queue == queue]
        statement = (
            select(_TASKS)
            .where(*_overdue(due_before), _COLUMNS.priority.in_(priorities))
            .order_by(_COLUMNS.due_at, _COLUMNS.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def list_due_delayed(self, *, now: datetime, limit: int) -> list[Task]:
        statement = (
            select(_TASKS)
            .where(
                PENDING,
                _COLUMNS.dispatched == false(),
                _COLUMNS.held.is_(None),  # due, yet still waiting for a concurrency slot
                _COLUMNS.run_at <= now,
            )
            .order_by(_COLUMNS.run_at, _COLUMNS.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def list_unfinished_of_schedule(self, schedule_id: ScheduleId) -> list[Task]:
        statement = (
            select(_TASKS)
            .where(
                _COLUMNS.schedule_id == schedule_id,
                _COLUMNS.status.in_([status.value for status in ACTIVE_STATUSES]),
            )
            .order_by(_COLUMNS.created_at, _COLUMNS.id)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def list_stale_running(self, *, heartbeat_before: datetime, limit: int) -> list[Task]:
        statement = (
            select(_TASKS)
            .where(
                _COLUMNS.status == TaskStatus.RUNNING.value,
                _COLUMNS.heartbeat_at < heartbeat_before,
            )
            .order_by(_COLUMNS.heartbeat_at, _COLUMNS.id)
            .limit(limit)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def hold_stale_running(
        self, task_ids: Collection[TaskId], *, heartbeat_before: datetime
    ) -> list[Task]:
        if not task_ids:
            return []
        statement = (
            select(_TASKS)
            .where(
                _COLUMNS.id.in_(list(task_ids)),
                _COLUMNS.status == TaskStatus.RUNNING.value,
                _COLUMNS.heartbeat_at < heartbeat_before,
            )
            # Rows are locked in the order they are sorted in: by id, as everywhere.
            .order_by(_COLUMNS.id)
            # Two reapers (two Beats by mistake) split the work instead of fighting over it;
            # the compare-and-set on write is what makes a double reap harmless anyway.
            .with_for_update(skip_locked=True)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def delete_finished_before(self, cutoff: datetime, *, limit: int) -> int:
        doomed = (
            select(_COLUMNS.id)
            .where(
                _COLUMNS.status.in_([s.value for s in TaskStatus if s.is_terminal]),
                _COLUMNS.completed_at < cutoff,
                _COLUMNS.workflow_id.is_(None),
            )
            .order_by(_COLUMNS.completed_at)
            .limit(limit)
            .scalar_subquery()
        )
        statement = delete(_TASKS).where(_COLUMNS.id.in_(doomed))
        return rows_written(self._connection, statement)

    def lock_concurrency_key(self, key: str) -> None:
        if self._connection.dialect.name == "sqlite":
            # As UserRepository.lock: a write takes SQLite's one write lock for the rest of
            # the transaction (a transaction ending a run holds it already).
            writing = update(_TASKS).where(_COLUMNS.concurrency_key == key)
            self._connection.execute(writing.values(concurrency_key=_COLUMNS.concurrency_key))
            return
        # A transaction-level advisory lock on the key's 64-bit hash: two keys sharing a
        # hash only wait for each other, never miscount.
        self._connection.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(key, _KEY_LOCK_SEED)))
        )

    def count_slot_holders(self, key: str) -> int:
        statement = select(func.count()).where(
            _COLUMNS.concurrency_key == key,
            (_COLUMNS.status == TaskStatus.RUNNING.value)
            | ((_COLUMNS.status == TaskStatus.PENDING.value) & _COLUMNS.held.is_(None)),
        )
        return self._connection.scalar(statement) or 0

    def queue_loads(self) -> list[QueueLoad]:
        statement = (
            select(
                _COLUMNS.priority,
                _COLUMNS.status,
                _COLUMNS.held,
                func.count(),
                func.min(_COLUMNS.created_at),
            )
            .where(_COLUMNS.status.in_([TaskStatus.PENDING.value, TaskStatus.RUNNING.value]))
            .group_by(_COLUMNS.priority, _COLUMNS.status, _COLUMNS.held)
        )
        rows = [
            (Priority(priority).queue, TaskStatus(status), held, count, oldest)
            for priority, status, held, count, oldest in self._connection.execute(statement)
        ]
        return QueueLoad.add_up(rows)

    def count_queued_ahead(self, task: Task) -> int:
        if task.due_at is None:
            return 0
        priorities = [p.value for p in Priority if p.queue == task.queue]
        statement = select(func.count()).where(
            PENDING,
            _COLUMNS.dispatched == true(),
            _COLUMNS.held.is_(None),
            _COLUMNS.priority.in_(priorities),
            _COLUMNS.due_at < task.due_at,
        )
        return self._connection.scalar(statement) or 0

    def list_held(self, key: str, *, limit: int) -> list[Task]:
        rank = case(
            *((_COLUMNS.priority == p.value, n) for n, p in enumerate(Priority)),
            else_=len(Priority),
        )
        statement = (
            select(_TASKS)
            .where(
                _COLUMNS.concurrency_key == key,
                _COLUMNS.status == TaskStatus.PENDING.value,
                _COLUMNS.held.is_not(None),
            )
            .order_by(rank, _COLUMNS.created_at, _COLUMNS.id)
            .limit(limit)
            # A held task being cancelled right now is skipped, not waited for: its
            # cancellation may be waiting for this key's lock, which we hold.
            .with_for_update(skip_locked=True)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def count_held_before(
        self, task: Task, *, owner_id: UserId | None = None, task_type: str | None = None
    ) -> int:
        if task.held is None:
            return 0
        statement = select(func.count()).where(
            _COLUMNS.held == task.held.value,
            _COLUMNS.priority == task.priority.value,
            _COLUMNS.status == TaskStatus.PENDING.value,
            _COLUMNS.created_at < task.created_at,
        )
        if owner_id is not None:
            statement = statement.where(_COLUMNS.user_id == owner_id)
        if task_type is not None:
            statement = statement.where(_COLUMNS.task_type == task_type)
        return self._connection.scalar(statement) or 0

    def held_groups(self, reason: HoldReason) -> list[HeldGroup]:
        statement = (
            select(_COLUMNS.priority, _COLUMNS.user_id, _COLUMNS.task_type, func.count())
            .where(_COLUMNS.held == reason.value, _COLUMNS.status == TaskStatus.PENDING.value)
            .group_by(_COLUMNS.priority, _COLUMNS.user_id, _COLUMNS.task_type)
        )
        return [
            HeldGroup(Priority(priority), UserId(owner), task_type, count)
            for priority, owner, task_type, count in self._connection.execute(statement)
        ]

    def list_held_for(
        self,
        reason: HoldReason,
        *,
        priority: Priority,
        owner_id: UserId | None = None,
        task_type: str | None = None,
        limit: int,
    ) -> list[Task]:
        statement = select(_TASKS).where(
            _COLUMNS.held == reason.value,
            _COLUMNS.priority == priority.value,
            _COLUMNS.status == TaskStatus.PENDING.value,
        )
        if owner_id is not None:
            statement = statement.where(_COLUMNS.user_id == owner_id)
        if task_type is not None:
            statement = statement.where(_COLUMNS.task_type == task_type)
        statement = (
            statement.order_by(_COLUMNS.created_at, _COLUMNS.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def of_workflow(
        self, workflow_id: WorkflowId, *, keys: Collection[str] | None = None
    ) -> list[Task]:
        statement = select(_TASKS).where(_COLUMNS.workflow_id == workflow_id)
        if keys is not None:
            statement = statement.where(_COLUMNS.workflow_key.in_(list(keys)))
        return [self._remember(row) for row in self._connection.execute(statement)]

    def workflow_statuses(self, workflow_id: WorkflowId) -> dict[str, TaskStatus]:
        statement = select(_COLUMNS.workflow_key, _COLUMNS.status).where(
            _COLUMNS.workflow_id == workflow_id
        )
        return {key: TaskStatus(status) for key, status in self._connection.execute(statement)}

    def upstream_of(self, workflow_id: WorkflowId, *, keys: Collection[str]) -> dict[str, Upstream]:
        rows = self._connection.execute(
            _UPSTREAM, {"of_workflow": workflow_id, "keys": list(set(keys))}
        )
        return {
            row.workflow_key: Upstream(
                status=row.status,
                result=row.result,
                error=f"{row.error_type}: {row.error_message or ''}" if row.error_type else None,
            )
            for row in rows
        }

    def meet_dependency(
        self, workflow_id: WorkflowId, keys: Collection[str]
    ) -> tuple[int, list[Task]]:
        counted = self._connection.execute(
            _MEET_DEPENDENCY, {"of_workflow": workflow_id, "keys": list(keys)}
        ).all()
        ready = [task_id for task_id, unmet in counted if unmet == 0]
        if not ready:
            return len(counted), []
        loading = select(_TASKS).where(_COLUMNS.id.in_(ready))
        return len(counted), [self._remember(row) for row in self._connection.execute(loading)]

    def workflow_has_unfinished_tasks(self, workflow_id: WorkflowId) -> bool:
        return (
            self._connection.execute(_UNFINISHED_IN_WORKFLOW, {"workflow_id": workflow_id}).first()
            is not None
        )

    def workflow_nodes(self, workflow_id: WorkflowId) -> list[Node]:
        statement = (
            select(_COLUMNS.workflow_key, _COLUMNS.depends_on)
            .where(_COLUMNS.workflow_id == workflow_id)
            .order_by(_COLUMNS.workflow_key)
        )
        return [Node(key, tuple(deps or ())) for key, deps in self._connection.execute(statement)]

    def _remember(self, row: Row[Any]) -> Task:
        task = task_from_row(row)
        self._loaded[task.id] = task_values(task)
        return task


def _overdue(due_before: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        PENDING,
        _COLUMNS.dispatched == true(),
        _COLUMNS.held.is_(None),
        _COLUMNS.due_at < due_before,
    )

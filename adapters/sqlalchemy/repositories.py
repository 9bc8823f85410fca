"""The SQL repositories: entities in and out through the mapping functions; they never commit.

Each repository remembers the columns of every entity it read or wrote, so `update` can
write only the changed columns, guarded by the status (and run token) it saw.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Row, Table, case, delete, false, func, insert, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from adapters.sqlalchemy.compare_and_set import lost_race, rows_written, write_changes
from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.keyset import newest_first
from adapters.sqlalchemy.mapping import (
    attempt_from_row,
    attempt_values,
    fire_from_row,
    fire_values,
    log_line_from_row,
    model_from_row,
    model_to_row,
    model_values,
    schedule_from_row,
    schedule_values,
    task_from_row,
    task_values,
    user_from_row,
    user_to_row,
    user_values,
    workflow_from_row,
    workflow_values,
)
from adapters.sqlalchemy.tables import (
    ModelRow,
    ScheduleFireRow,
    ScheduleRow,
    TaskAttemptRow,
    TaskLogRow,
    TaskRow,
    UserRow,
    WorkflowRow,
)
from application.errors import FencedOffError
from application.ports import (
    AttemptRepository,
    Cursor,
    ModelQuery,
    ModelRepository,
    QueueLoad,
    ScheduleFireRepository,
    ScheduleQuery,
    ScheduleRepository,
    TaskLogRepository,
    TaskQuery,
    TaskRepository,
    UserRepository,
    WorkflowQuery,
    WorkflowRepository,
)
from domain.attempt import Attempt, TaskLogLine
from domain.errors import AlreadyExistsError, ConcurrencyConflictError, NotFoundError
from domain.model import Model, ModelId
from domain.schedule import Fire, Schedule, ScheduleId
from domain.task import ACTIVE_STATUSES, Priority, Task, TaskId, TaskStatus
from domain.user import Email, User, UserId
from domain.workflow import Node, Workflow, WorkflowId

# Reads refresh rows already in the session: our guarded UPDATEs bypass its identity map.
_FRESH = {"populate_existing": True}
# Nor should those UPDATEs look for session objects to keep in step.
_UNSYNCHRONIZED = {"synchronize_session": False}
# The hot paths (a submission's INSERT, the claim's and the token's reads) use the tables
# through Core: rows carry the same attributes as the mapped classes, and skipping the ORM's
# identity map and flush took a quarter of the time of each (profiled under load).
_TASKS = cast(Table, TaskRow.__table__)
_USERS = cast(Table, UserRow.__table__)
# Seeds the hash of concurrency keys' advisory locks, apart from any other advisory lock.
_KEY_LOCK_SEED = 0x7461736B
_WORKFLOWS = cast(Table, WorkflowRow.__table__)
_ATTEMPTS = cast(Table, TaskAttemptRow.__table__)
_LOGS = cast(Table, TaskLogRow.__table__)


class SqlAlchemyTaskRepository(TaskRepository):
    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[TaskId, dict[str, Any]] = {}

    def add(self, task: Task) -> None:
        values = task_values(task)
        with unique_violations_as_already_exists("task"):
            self._session.execute(insert(_TASKS), values)
        self._loaded[task.id] = values

    def add_many(self, tasks: Sequence[Task]) -> None:
        if not tasks:
            return
        loaded = {task.id: task_values(task) for task in tasks}
        # An ORM bulk INSERT: one executemany (batched "insertmanyvalues" statements on
        # PostgreSQL), and no row objects kept in the session.
        with unique_violations_as_already_exists("task"):
            self._session.execute(insert(TaskRow), [dict(values) for values in loaded.values()])
        self._loaded.update(loaded)

    def get(self, task_id: TaskId) -> Task:
        row = self._session.execute(select(_TASKS).where(_TASKS.c.id == task_id)).first()
        if row is None:
            raise NotFoundError(f"task {task_id} not found", task_id=str(task_id))
        return self._remember(row)

    def update(self, task: Task) -> None:
        loaded = self._loaded.get(task.id)
        if loaded is None:  # never read through this repository: nothing to compare with
            raise lost_race(self._session, TaskRow, task.id, "task")
        current = task_values(task)
        guard = ("status", "run_token")
        if not write_changes(self._session, TaskRow, loaded=loaded, current=current, guard=guard):
            raise lost_race(self._session, TaskRow, task.id, "task")
        self._loaded[task.id] = current

    def delete(self, task: Task) -> None:
        statement = delete(TaskRow).where(TaskRow.id == task.id)
        self._session.execute(statement.execution_options(**_UNSYNCHRONIZED))
        self._loaded.pop(task.id, None)

    def find(self, query: TaskQuery) -> list[Task]:
        filters = {
            TaskRow.user_id: query.owner_id,
            TaskRow.status: query.status and query.status.value,
            TaskRow.task_type: query.task_type,
            TaskRow.priority: query.priority and query.priority.value,
            TaskRow.model_id: query.model_id,
            TaskRow.schedule_id: query.schedule_id,
        }
        statement = select(TaskRow).where(
            *(column == value for column, value in filters.items() if value is not None)
        )
        if query.name_contains is not None:
            # ILIKE on PostgreSQL, lower() LIKE lower() on SQLite; % and _ match themselves.
            statement = statement.where(
                TaskRow.name.icontains(query.name_contains, autoescape=True)
            )
        if query.created_after is not None:
            statement = statement.where(TaskRow.created_at > query.created_after)
        if query.created_before is not None:
            statement = statement.where(TaskRow.created_at < query.created_before)
        statement = newest_first(
            statement,
            created_at=TaskRow.created_at,
            id_=TaskRow.id,
            after=query.after,
            limit=query.limit,
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def count_active(self, owner_id: UserId) -> int:
        statement = select(func.count()).where(
            TaskRow.user_id == owner_id,
            TaskRow.status.in_([status.value for status in ACTIVE_STATUSES]),
        )
        return self._session.scalar(statement) or 0

    def count_by_status(self) -> dict[TaskStatus, int]:
        statement = select(TaskRow.status, func.count()).group_by(TaskRow.status)
        return {TaskStatus(status): count for status, count in self._session.execute(statement)}

    def mark_dispatched(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None:
        if task_ids:
            statement = (
                update(TaskRow)
                .where(TaskRow.id.in_(task_ids))
                .values(dispatched=True, due_at=due_at)
            )
            self._session.execute(statement.execution_options(**_UNSYNCHRONIZED))

    def list_undispatched(self, *, created_before: datetime, limit: int) -> list[Task]:
        statement = (
            select(TaskRow)
            .where(
                TaskRow.status == TaskStatus.PENDING.value,
                TaskRow.dispatched == false(),
                TaskRow.held.is_(None),
                # A delayed task is not undispatched before its run_at: it waits by design.
                func.coalesce(TaskRow.run_at, TaskRow.created_at) < created_before,
            )
            .order_by(TaskRow.created_at, TaskRow.id)
            .limit(limit)
            # PostgreSQL: concurrent relays skip the rows another is publishing. SQLite
            # renders nothing here; its writers are serialised anyway.
            .with_for_update(skip_locked=True)
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def mark_pending_undispatched(self) -> int:
        statement = (
            update(TaskRow)
            .where(
                TaskRow.status == TaskStatus.PENDING.value,
                TaskRow.dispatched == true(),
                TaskRow.held.is_(None),
            )
            .values(dispatched=False)
        )
        return rows_written(self._session, statement.execution_options(**_UNSYNCHRONIZED))

    def oldest_waiting_by_queue(self) -> dict[str, datetime]:
        since = func.min(func.coalesce(TaskRow.due_at, TaskRow.created_at))
        statement = (
            select(TaskRow.priority, since)
            .where(TaskRow.status == TaskStatus.PENDING.value)
            .group_by(TaskRow.priority)
        )
        oldest: dict[str, datetime] = {}
        for priority, at in self._session.execute(statement):
            at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite keeps no zone
            queue = Priority(priority).queue
            oldest[queue] = min(oldest.get(queue, at), at)
        return oldest

    def count_active_by_queue(self) -> dict[str, int]:
        statement = (
            select(TaskRow.priority, func.count())
            .where(TaskRow.status.in_([TaskStatus.PENDING.value, TaskStatus.RUNNING.value]))
            .group_by(TaskRow.priority)
        )
        counts: dict[str, int] = {}
        for priority, count in self._session.execute(statement):
            queue = Priority(priority).queue
            counts[queue] = counts.get(queue, 0) + count
        return counts

    def count_undispatched(self) -> int:
        statement = select(func.count()).where(
            TaskRow.status == TaskStatus.PENDING.value, TaskRow.dispatched == false()
        )
        return int(self._session.scalar(statement) or 0)

    def count_overdue(self, *, due_before: datetime) -> dict[str, int]:
        statement = (
            select(TaskRow.priority, func.count())
            .where(*_overdue(due_before))
            .group_by(TaskRow.priority)
        )
        return {
            Priority(priority).queue: count for priority, count in self._session.execute(statement)
        }

    def list_overdue(self, *, queue: str, due_before: datetime, limit: int) -> list[Task]:
        priorities = [p.value for p in Priority if p.queue == queue]
        statement = (
            select(TaskRow)
            .where(*_overdue(due_before), TaskRow.priority.in_(priorities))
            .order_by(TaskRow.due_at, TaskRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def list_due_delayed(self, *, now: datetime, limit: int) -> list[Task]:
        statement = (
            select(TaskRow)
            .where(
                TaskRow.status == TaskStatus.PENDING.value,
                TaskRow.dispatched == false(),
                TaskRow.held.is_(None),  # due, yet still waiting for a concurrency slot
                TaskRow.run_at <= now,
            )
            .order_by(TaskRow.run_at, TaskRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def list_unfinished_of_schedule(self, schedule_id: ScheduleId) -> list[Task]:
        statement = (
            select(TaskRow)
            .where(
                TaskRow.schedule_id == schedule_id,
                TaskRow.status.in_([status.value for status in ACTIVE_STATUSES]),
            )
            .order_by(TaskRow.created_at, TaskRow.id)
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def list_stale_running(self, *, heartbeat_before: datetime, limit: int) -> list[Task]:
        statement = (
            select(TaskRow)
            .where(
                TaskRow.status == TaskStatus.RUNNING.value,
                TaskRow.heartbeat_at < heartbeat_before,
            )
            .order_by(TaskRow.heartbeat_at, TaskRow.id)
            .limit(limit)
            # Two reapers (two Beats by mistake) split the work instead of fighting over it;
            # the compare-and-set on write is what makes a double reap harmless anyway.
            .with_for_update(skip_locked=True)
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def delete_finished_before(self, cutoff: datetime, *, limit: int) -> int:
        doomed = (
            select(TaskRow.id)
            .where(
                TaskRow.status.in_([s.value for s in TaskStatus if s.is_terminal]),
                TaskRow.completed_at < cutoff,
                TaskRow.workflow_id.is_(None),
            )
            .order_by(TaskRow.completed_at)
            .limit(limit)
            .scalar_subquery()
        )
        statement = delete(TaskRow).where(TaskRow.id.in_(doomed))
        return rows_written(self._session, statement.execution_options(**_UNSYNCHRONIZED))

    def lock_concurrency_key(self, key: str) -> None:
        if self._session.get_bind().dialect.name == "sqlite":
            # As UserRepository.lock: a write takes SQLite's one write lock for the rest of
            # the transaction (a transaction ending a run holds it already).
            writing = update(_TASKS).where(_TASKS.c.concurrency_key == key)
            self._session.execute(writing.values(concurrency_key=_TASKS.c.concurrency_key))
            return
        # A transaction-level advisory lock on the key's 64-bit hash: two keys sharing a
        # hash only wait for each other, never miscount.
        self._session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(key, _KEY_LOCK_SEED)))
        )

    def count_slot_holders(self, key: str) -> int:
        statement = select(func.count()).where(
            TaskRow.concurrency_key == key,
            (TaskRow.status == TaskStatus.RUNNING.value)
            | ((TaskRow.status == TaskStatus.PENDING.value) & TaskRow.held.is_(None)),
        )
        return self._session.scalar(statement) or 0

    def queue_loads(self) -> list[QueueLoad]:
        statement = (
            select(
                TaskRow.priority,
                TaskRow.status,
                TaskRow.held,
                func.count(),
                func.min(TaskRow.created_at),
            )
            .where(TaskRow.status.in_([TaskStatus.PENDING.value, TaskStatus.RUNNING.value]))
            .group_by(TaskRow.priority, TaskRow.status, TaskRow.held)
        )
        rows = [
            (Priority(priority).queue, TaskStatus(status), held, count, oldest)
            for priority, status, held, count, oldest in self._session.execute(statement)
        ]
        return QueueLoad.add_up(rows)

    def count_queued_ahead(self, task: Task) -> int:
        if task.due_at is None:
            return 0
        priorities = [p.value for p in Priority if p.queue == task.queue]
        statement = select(func.count()).where(
            TaskRow.status == TaskStatus.PENDING.value,
            TaskRow.dispatched == true(),
            TaskRow.held.is_(None),
            TaskRow.priority.in_(priorities),
            TaskRow.due_at < task.due_at,
        )
        return self._session.scalar(statement) or 0

    def list_held(self, key: str, *, limit: int) -> list[Task]:
        rank = case(
            *((TaskRow.priority == p.value, n) for n, p in enumerate(Priority)), else_=len(Priority)
        )
        statement = (
            select(TaskRow)
            .where(
                TaskRow.concurrency_key == key,
                TaskRow.status == TaskStatus.PENDING.value,
                TaskRow.held.is_not(None),
            )
            .order_by(rank, TaskRow.created_at, TaskRow.id)
            .limit(limit)
            # A held task being cancelled right now is skipped, not waited for: its
            # cancellation may be waiting for this key's lock, which we hold.
            .with_for_update(skip_locked=True)
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def of_workflow(
        self, workflow_id: WorkflowId, *, keys: Collection[str] | None = None
    ) -> list[Task]:
        statement = select(_TASKS).where(_TASKS.c.workflow_id == workflow_id)
        if keys is not None:
            statement = statement.where(_TASKS.c.workflow_key.in_(list(keys)))
        return [self._remember(row) for row in self._session.execute(statement)]

    def workflow_statuses(self, workflow_id: WorkflowId) -> dict[str, TaskStatus]:
        statement = select(_TASKS.c.workflow_key, _TASKS.c.status).where(
            _TASKS.c.workflow_id == workflow_id
        )
        return {key: TaskStatus(status) for key, status in self._session.execute(statement)}

    def workflow_nodes(self, workflow_id: WorkflowId) -> list[Node]:
        statement = (
            select(_TASKS.c.workflow_key, _TASKS.c.depends_on)
            .where(_TASKS.c.workflow_id == workflow_id)
            .order_by(_TASKS.c.workflow_key)
        )
        return [Node(key, tuple(deps or ())) for key, deps in self._session.execute(statement)]

    def _remember(self, row: TaskRow | Row[Any]) -> Task:
        task = task_from_row(row)
        self._loaded[task.id] = task_values(task)
        return task


def _overdue(due_before: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        TaskRow.status == TaskStatus.PENDING.value,
        TaskRow.dispatched == true(),
        TaskRow.held.is_(None),
        TaskRow.due_at < due_before,
    )


class SqlAlchemyUserRepository(UserRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, user: User) -> None:
        # Checked first so the common case leaves the transaction usable; the constraint
        # still catches two registrations racing.
        if self.find_by_email(user.email) is not None:
            raise AlreadyExistsError(
                f"a user with email {user.email} already exists", field="email"
            )
        with unique_violations_as_already_exists("user"):
            self._session.add(user_to_row(user))
            self._session.flush()

    def get(self, user_id: UserId) -> User:
        row = self._session.execute(select(_USERS).where(_USERS.c.id == user_id)).first()
        if row is None:
            raise NotFoundError(f"user {user_id} not found", user_id=str(user_id))
        return user_from_row(row)

    def find_by_email(self, email: Email) -> User | None:
        statement = select(UserRow).where(UserRow.email == email.value)
        row = self._session.scalars(statement, execution_options=_FRESH).one_or_none()
        return user_from_row(row) if row is not None else None

    def update(self, user: User) -> None:
        values = user_values(user)
        # Never lowered: an admin's edit of an account loaded before the owner logged out
        # everywhere must not bring the ended sessions back.
        values["token_version"] = case(
            (UserRow.token_version > user.token_version, UserRow.token_version),
            else_=user.token_version,
        )
        statement = (
            update(UserRow)
            .where(UserRow.id == user.id)
            .values(values)
            .execution_options(**_UNSYNCHRONIZED)
        )
        with unique_violations_as_already_exists("user"):
            written = rows_written(self._session, statement)
        if not written:
            raise NotFoundError(f"user {user.id} not found", user_id=str(user.id))

    def lock(self, user_id: UserId) -> None:
        if self._session.get_bind().dialect.name == "sqlite":
            # SQLite has one writer at a time: a write opens the transaction and takes the
            # database's write lock (waiting busy_timeout for it), so what the transaction
            # reads next is no older than the last commit. The column written is in no index.
            writing = update(_USERS).where(_USERS.c.id == user_id)
            self._session.execute(writing.values(is_active=_USERS.c.is_active))
            return
        # FOR NO KEY UPDATE: waits for another transaction's lock on the user, but not for the
        # KEY SHARE locks that inserting a task or a model takes on its owner (foreign key).
        locking = select(_USERS.c.id).where(_USERS.c.id == user_id)
        self._session.execute(locking.with_for_update(key_share=True))

    def find(self, *, after: Cursor | None, limit: int) -> list[User]:
        statement = newest_first(
            select(UserRow), created_at=UserRow.created_at, id_=UserRow.id, after=after, limit=limit
        )
        return [
            user_from_row(row) for row in self._session.scalars(statement, execution_options=_FRESH)
        ]


class SqlAlchemyModelRepository(ModelRepository):
    def __init__(self, session: Session) -> None:
        self._session = session
        self._loaded: dict[ModelId, dict[str, Any]] = {}

    def add(self, model: Model) -> None:
        self._check_name_free(model)
        with unique_violations_as_already_exists("model"):
            self._session.add(model_to_row(model))
            self._session.flush()
        self._loaded[model.id] = model_values(model)

    def get(self, model_id: ModelId) -> Model:
        row = self._session.get(ModelRow, model_id, populate_existing=True)
        if row is None:
            raise NotFoundError(f"model {model_id} not found", model_id=str(model_id))
        return self._remember(row)

    def update(self, model: Model) -> None:
        loaded = self._loaded.get(model.id)
        if loaded is None:
            raise lost_race(self._session, ModelRow, model.id, "model")
        current = model_values(model)
        if current["name"] != loaded["name"]:
            self._check_name_free(model)
        guard = ("status",)
        with unique_violations_as_already_exists("model"):
            written = write_changes(
                self._session, ModelRow, loaded=loaded, current=current, guard=guard
            )
        if not written:
            raise lost_race(self._session, ModelRow, model.id, "model")
        self._loaded[model.id] = current

    def delete(self, model: Model) -> None:
        # The foreign key's ON DELETE SET NULL unlinks the model's past tasks.
        statement = delete(ModelRow).where(ModelRow.id == model.id)
        self._session.execute(statement.execution_options(**_UNSYNCHRONIZED))
        self._loaded.pop(model.id, None)

    def find(self, query: ModelQuery) -> list[Model]:
        filters = {
            ModelRow.user_id: query.owner_id,
            ModelRow.status: query.status and query.status.value,
        }
        statement = select(ModelRow).where(
            *(column == value for column, value in filters.items() if value is not None)
        )
        statement = newest_first(
            statement,
            created_at=ModelRow.created_at,
            id_=ModelRow.id,
            after=query.after,
            limit=query.limit,
        )
        return [
            self._remember(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]

    def _remember(self, row: ModelRow) -> Model:
        model = model_from_row(row)
        self._loaded[model.id] = model_values(model)
        return model

    def _check_name_free(self, model: Model) -> None:
        taken = select(ModelRow.id).where(
            ModelRow.user_id == model.user_id,
            ModelRow.name == model.name,
            ModelRow.id != model.id,
        )
        if self._session.scalar(taken) is not None:
            raise AlreadyExistsError(f"you already have a model named {model.name!r}", field="name")


class SqlAlchemyScheduleRepository(ScheduleRepository):
    """Every write bumps `version` and is guarded by the version read, so the API's edits
    and the scheduler's fires never overwrite each other; and by `fence`, so a scheduler
    with an older lease than the row's last writer cannot write at all."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._versions: dict[ScheduleId, int] = {}

    def add(self, schedule: Schedule) -> None:
        self._session.execute(insert(ScheduleRow), {**schedule_values(schedule), "version": 0})
        self._versions[schedule.id] = 0

    def get(self, schedule_id: ScheduleId) -> Schedule:
        row = self._session.execute(
            select(ScheduleRow.__table__).where(ScheduleRow.id == schedule_id)
        ).first()
        if row is None:
            raise NotFoundError(f"schedule {schedule_id} not found", schedule_id=str(schedule_id))
        return self._remember(row)

    def update(self, schedule: Schedule) -> None:
        version = self._versions.get(schedule.id)
        statement = (
            update(ScheduleRow)
            .where(
                ScheduleRow.id == schedule.id,
                ScheduleRow.version == version,
                ScheduleRow.fence <= schedule.fence,
            )
            .values({**schedule_values(schedule), "version": (version or 0) + 1})
            .execution_options(**_UNSYNCHRONIZED)
        )
        if version is not None and rows_written(self._session, statement):
            self._versions[schedule.id] = version + 1
            return
        stored = self._session.execute(
            select(ScheduleRow.fence).where(ScheduleRow.id == schedule.id)
        ).scalar_one_or_none()
        if stored is None:
            raise NotFoundError(f"schedule {schedule.id} not found", schedule_id=str(schedule.id))
        if stored > schedule.fence:
            raise FencedOffError(
                f"schedule {schedule.id} was written under a newer lease ({stored})",
                schedule_id=str(schedule.id),
            )
        raise ConcurrencyConflictError(
            f"schedule {schedule.id} was changed meanwhile; try again",
            schedule_id=str(schedule.id),
        )

    def delete(self, schedule: Schedule) -> None:
        statement = delete(ScheduleRow).where(ScheduleRow.id == schedule.id)
        self._session.execute(statement.execution_options(**_UNSYNCHRONIZED))
        # SQLite enforces no foreign keys unless asked: remove the ledger explicitly.
        fires = delete(ScheduleFireRow).where(ScheduleFireRow.schedule_id == schedule.id)
        self._session.execute(fires.execution_options(**_UNSYNCHRONIZED))
        self._versions.pop(schedule.id, None)

    def find(self, query: ScheduleQuery) -> list[Schedule]:
        statement = select(ScheduleRow.__table__)
        if query.owner_id is not None:
            statement = statement.where(ScheduleRow.user_id == query.owner_id)
        statement = newest_first(
            statement,
            created_at=ScheduleRow.created_at,
            id_=ScheduleRow.id,
            after=query.after,
            limit=query.limit,
        )
        return [self._remember(row) for row in self._session.execute(statement)]

    def count_of_owner(self, owner_id: UserId) -> int:
        statement = select(func.count()).where(ScheduleRow.user_id == owner_id)
        return self._session.scalar(statement) or 0

    def list_due(self, *, now: datetime, limit: int) -> list[Schedule]:
        statement = (
            select(ScheduleRow.__table__)
            .where(ScheduleRow.paused == false(), ScheduleRow.next_fire_at <= now)
            .order_by(ScheduleRow.next_fire_at, ScheduleRow.id)
            .limit(limit)
        )
        return [self._remember(row) for row in self._session.execute(statement)]

    def _remember(self, row: Row[Any]) -> Schedule:
        schedule = schedule_from_row(row)
        self._versions[schedule.id] = row.version
        return schedule


class SqlAlchemyScheduleFireRepository(ScheduleFireRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add_many(self, fires: Sequence[Fire]) -> None:
        if not fires:
            return
        with unique_violations_as_already_exists("schedule fire"):
            self._session.execute(insert(ScheduleFireRow), [fire_values(f) for f in fires])

    def find(self, schedule_id: ScheduleId, *, before: datetime | None, limit: int) -> list[Fire]:
        statement = select(ScheduleFireRow.__table__).where(
            ScheduleFireRow.schedule_id == schedule_id
        )
        if before is not None:
            statement = statement.where(ScheduleFireRow.fire_time < before)
        statement = statement.order_by(ScheduleFireRow.fire_time.desc()).limit(limit)
        return [fire_from_row(row) for row in self._session.execute(statement)]


class SqlAlchemyWorkflowRepository(WorkflowRepository):
    def __init__(self, session: Session) -> None:
        self._session = session
        self._held: set[WorkflowId] = set()  # in this transaction (one repository each)

    def add(self, workflow: Workflow) -> None:
        with unique_violations_as_already_exists("workflow"):
            self._session.execute(insert(_WORKFLOWS), workflow_values(workflow))

    def get(self, workflow_id: WorkflowId) -> Workflow:
        row = self._session.execute(
            select(_WORKFLOWS).where(_WORKFLOWS.c.id == workflow_id)
        ).first()
        if row is None:
            raise NotFoundError(f"workflow {workflow_id} not found", workflow_id=str(workflow_id))
        return workflow_from_row(row)

    def lock(self, workflow_id: WorkflowId) -> None:
        if workflow_id in self._held:
            return
        if self._session.get_bind().dialect.name == "sqlite":
            # As UserRepository.lock: a write takes SQLite's one write lock at once.
            writing = update(_WORKFLOWS).where(_WORKFLOWS.c.id == workflow_id)
            locked = rows_written(self._session, writing.values(name=_WORKFLOWS.c.name))
        else:
            locking = select(_WORKFLOWS.c.id).where(_WORKFLOWS.c.id == workflow_id)
            locked = len(self._session.execute(locking.with_for_update()).all())
        if not locked:
            raise NotFoundError(f"workflow {workflow_id} not found", workflow_id=str(workflow_id))

    def update(self, workflow: Workflow) -> None:
        values = workflow_values(workflow)
        statement = (
            update(_WORKFLOWS)
            .where(_WORKFLOWS.c.id == workflow.id)
            .values(status=values["status"], completed_at=values["completed_at"])
        )
        if not rows_written(self._session, statement):
            raise NotFoundError(f"workflow {workflow.id} not found", workflow_id=str(workflow.id))

    def delete(self, workflow: Workflow) -> None:
        # The tasks' foreign key is ON DELETE CASCADE; deleted here as well, so SQLite
        # without foreign keys enforced behaves the same.
        self._session.execute(
            delete(TaskRow)
            .where(TaskRow.workflow_id == workflow.id)
            .execution_options(**_UNSYNCHRONIZED)
        )
        self._session.execute(delete(_WORKFLOWS).where(_WORKFLOWS.c.id == workflow.id))

    def find(self, query: WorkflowQuery) -> list[Workflow]:
        statement = select(WorkflowRow)
        if query.owner_id is not None:
            statement = statement.where(WorkflowRow.user_id == query.owner_id)
        if query.status is not None:
            statement = statement.where(WorkflowRow.status == query.status.value)
        statement = newest_first(
            statement,
            created_at=WorkflowRow.created_at,
            id_=WorkflowRow.id,
            after=query.after,
            limit=query.limit,
        )
        return [
            workflow_from_row(row)
            for row in self._session.scalars(statement, execution_options=_FRESH)
        ]


class SqlAlchemyAttemptRepository(AttemptRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, attempt: Attempt) -> None:
        recorded = self._session.execute(
            select(TaskAttemptRow.number).where(
                TaskAttemptRow.task_id == attempt.task_id, TaskAttemptRow.number == attempt.number
            )
        ).first()
        if recorded is None:
            self._session.execute(insert(TaskAttemptRow), attempt_values(attempt))

    def list(self, task_id: TaskId) -> list[Attempt]:
        statement = (
            select(_ATTEMPTS)
            .where(TaskAttemptRow.task_id == task_id)
            .order_by(TaskAttemptRow.number)
        )
        return [attempt_from_row(row) for row in self._session.execute(statement)]


class SqlAlchemyTaskLogRepository(TaskLogRepository):
    def __init__(self, session: Session) -> None:
        self._session = session

    def append(self, lines: Sequence[TaskLogLine], *, keep: int) -> None:
        if not lines:
            return
        task_id = lines[0].task_id
        last = self._session.execute(
            select(func.max(TaskLogRow.seq)).where(TaskLogRow.task_id == task_id)
        ).scalar_one_or_none()
        first = (last or 0) + 1
        rows = [
            {
                "task_id": line.task_id,
                "seq": first + offset,
                "attempt": line.attempt,
                "level": line.level.value,
                "message": line.message,
                "logged_at": line.logged_at,
            }
            for offset, line in enumerate(lines)
        ]
        self._session.execute(insert(TaskLogRow), rows)
        newest = first + len(rows) - 1
        if newest > keep:
            self._session.execute(
                delete(TaskLogRow)
                .where(TaskLogRow.task_id == task_id, TaskLogRow.seq <= newest - keep)
                .execution_options(**_UNSYNCHRONIZED)
            )

    def page(self, task_id: TaskId, *, after: int | None, limit: int) -> list[TaskLogLine]:
        statement = select(_LOGS).where(TaskLogRow.task_id == task_id)
        if after is not None:
            statement = statement.where(TaskLogRow.seq > after)
        statement = statement.order_by(TaskLogRow.seq).limit(limit)
        return [log_line_from_row(row) for row in self._session.execute(statement)]

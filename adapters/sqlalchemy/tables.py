"""The ORM rows: how tasks, users and models are laid out in tables, apart from the entities.

String lengths follow the limits the domain enforces; text the domain does not bound is
`Text`, so PostgreSQL never refuses what SQLite (which ignores lengths) would accept. Enum
values are stored as plain strings, so a new status needs no `ALTER TYPE`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    literal_column,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from adapters.sqlalchemy.timestamp import UtcDateTime

# Stable constraint names: migrations can refer to them and errors can be told apart by them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("email"),)

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    hashed_password: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean)
    is_admin: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    token_version: Mapped[int] = mapped_column(Integer, server_default="0")
    # The owner's weight under fair sharing of a crowded queue (domain/flow.py).
    share_weight: Mapped[int] = mapped_column(Integer, server_default="1")
    # The number of the user's latest task event (TaskEventRow.sequence): bumped in the
    # transaction that records one, whose row lock orders the user's events by commit.
    event_sequence: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # Whether the user ever had a webhook endpoint or a callback secret: read with every
    # event number, so the events of the many users without webhooks cost no query for them.
    webhooks: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ModelRow(Base):
    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000))
    model_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    artifact_location: Mapped[str] = mapped_column(String(1000))
    artifact_size: Mapped[int | None] = mapped_column(BigInteger)
    artifact_sha256: Mapped[str | None] = mapped_column(String(64))
    deployed_location: Mapped[str | None] = mapped_column(Text)
    status_reason: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ReadinessProbeRow(Base):
    """One row the readiness probe rewrites: a database that answers but cannot write (disk
    full, read-only) is not ready."""

    __tablename__ = "readiness_probe"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WorkflowRow(Base):
    __tablename__ = "workflows"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    on_failure: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TaskRow(Base):
    __tablename__ = "tasks"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    task_type: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(20))
    args: Mapped[list[Any]] = mapped_column(JSON)
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SQL NULL rather than JSON 'null' when there is no result: the two mean the same here.
    result: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    error_type: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer)
    progress_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    user_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    model_id: Mapped[UUID | None] = mapped_column(
        Uuid, ForeignKey("models.id", ondelete="SET NULL")
    )
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_token: Mapped[str | None] = mapped_column(Text)
    dispatched: Mapped[bool] = mapped_column(Boolean)
    # Outbox bookkeeping, not part of the entity: when the task's latest broker message
    # became takeable (its publish, or the end of a retry's backoff). See
    # RepublishOverdueTasks.
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    request_id: Mapped[str | None] = mapped_column(String(64))
    # Flow control (domain/flow.py): the key whose slots the task needs and their number,
    # and why a pending task is held back unpublished (NULL: not held).
    concurrency_key: Mapped[str | None] = mapped_column(String(300))
    concurrency_limit: Mapped[int | None] = mapped_column(Integer)
    held: Mapped[str | None] = mapped_column(String(20))
    # A delayed task's time; a scheduled run's schedule and fire time (no foreign key: a
    # deleted schedule leaves its runs as ordinary tasks).
    run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    schedule_id: Mapped[UUID | None] = mapped_column(Uuid)
    fire_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A workflow's task: deleted with its workflow.
    workflow_id: Mapped[UUID | None] = mapped_column(
        Uuid, ForeignKey("workflows.id", ondelete="CASCADE")
    )
    workflow_key: Mapped[str | None] = mapped_column(String(100))
    depends_on: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    unmet_dependencies: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    error_traceback: Mapped[str | None] = mapped_column(Text)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    retry_of: Mapped[UUID | None] = mapped_column(Uuid)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    worker_pid: Mapped[int | None] = mapped_column(Integer)


class TaskAttemptRow(Base):
    """One ended run of a task; goes with its task."""

    __tablename__ = "task_attempts"

    task_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_host: Mapped[str | None] = mapped_column(String(255))
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    error_type: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    error_traceback: Mapped[str | None] = mapped_column(Text)


class TaskLogRow(Base):
    """One line a run of a task logged; goes with its task."""

    __tablename__ = "task_logs"
    __table_args__ = (UniqueConstraint("task_id", "seq"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    task_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("tasks.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    logged_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScheduleRow(Base):
    __tablename__ = "schedules"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    # The task template: name, task_type, priority, args, kwargs.
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    cron: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(100))
    interval_seconds: Mapped[int | None] = mapped_column(Integer)
    anchor: Mapped[datetime] = mapped_column(UtcDateTime)
    start_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    max_runs: Mapped[int | None] = mapped_column(Integer)
    overlap: Mapped[str] = mapped_column(String(20))
    catch_up: Mapped[str] = mapped_column(String(20))
    paused: Mapped[bool] = mapped_column(Boolean)
    runs: Mapped[int] = mapped_column(Integer)
    next_fire_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The highest scheduler lease generation that wrote the row (a fencing token).
    fence: Mapped[int] = mapped_column(BigInteger)
    # Bumped by every write: the compare-and-set of an update.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ScheduleFireRow(Base):
    """The fire ledger: the unique (schedule_id, fire_time) is what makes a fire happen once,
    whichever scheduler records it."""

    __tablename__ = "schedule_fires"
    __table_args__ = (UniqueConstraint("schedule_id", "fire_time"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    schedule_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("schedules.id", ondelete="CASCADE"))
    fire_time: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[str] = mapped_column(String(20))
    task_id: Mapped[UUID | None] = mapped_column(Uuid)
    reason: Mapped[str | None] = mapped_column(String(100))
    fence: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IdempotencyKeyRow(Base):
    """A submission's idempotency key and the tasks its first request created."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    task_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    # A workflow's or a schedule's id, for the submissions that create one.
    resource_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class TaskEventRow(Base):
    """A change of a task's status or progress, numbered per user. No foreign key to the
    task: a deleted task's events stay until pruned, so a follower still sees how it ended."""

    __tablename__ = "task_events"

    user_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task_id: Mapped[UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


# A task's own stream, and its latest event.
Index("ix_task_events_task_id_sequence", TaskEventRow.task_id, TaskEventRow.sequence)


class WebhookEndpointRow(Base):
    """A user's webhook endpoint and the event types it subscribes to."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    failing_since: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class CallbackRow(Base):
    """The URL a task's or a workflow's end is sent to (its submission's `callback_url`).
    No foreign key: the subject is a task or a workflow."""

    __tablename__ = "callbacks"

    subject_id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    url: Mapped[str] = mapped_column(Text)


class CallbackSecretRow(Base):
    """The secret a user's callback deliveries are signed with."""

    __tablename__ = "callback_secrets"

    user_id: Mapped[UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))


class WebhookDeliveryRow(Base):
    """One event for one target, written with the event (the webhooks' outbox). No foreign
    key to the task: a deleted task's end is still delivered."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    endpoint_id: Mapped[UUID | None] = mapped_column(
        Uuid, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=True
    )
    sequence: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[UUID] = mapped_column(Uuid)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    url: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    round_start: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


# The sweep's query (due pending deliveries), and an endpoint's delivery log.
Index(
    "ix_webhook_deliveries_status_next_attempt_at",
    WebhookDeliveryRow.status,
    WebhookDeliveryRow.next_attempt_at,
)
Index(
    "ix_webhook_deliveries_endpoint_id_sequence",
    WebhookDeliveryRow.endpoint_id,
    WebhookDeliveryRow.sequence,
)


# Every listing is keyset-paginated newest first on (created_at, id); each index below
# serves one query shape of the repositories, named after it.
def _only_where(condition: Any) -> dict[str, Any]:
    """A partial index, on both databases: only the rows it serves, so that a run's claim
    and end write as few index entries as can be. PostgreSQL adds an entry to every full
    index at each update of a row, SQLite to every index holding a changed column (the
    status). An index of a column most tasks leave NULL (a concurrency key, a workflow, a
    model, a schedule, a hold) serves `column = ?`, which implies `column IS NOT NULL` to
    both planners. The sweeps of pending tasks (undispatched, overdue, delayed) must say
    `PENDING` itself, the literal condition, for either planner to use theirs."""
    return {"sqlite_where": condition, "postgresql_where": condition}


# A pending task, as the condition of the sweeps' partial indexes and of their queries:
# written inline, not bound, so that the planners can match the two.
PENDING = TaskRow.status == literal_column("'pending'")


Index("ix_users_created_at_id", UserRow.created_at, UserRow.id)
Index(
    "ix_models_user_id_created_at_id",
    ModelRow.user_id,
    ModelRow.created_at.desc(),
    ModelRow.id.desc(),
)
Index("ix_models_created_at_id", ModelRow.created_at, ModelRow.id)
# A user's own tasks, newest first.
Index(
    "ix_tasks_user_id_created_at_id", TaskRow.user_id, TaskRow.created_at.desc(), TaskRow.id.desc()
)
# Admins list every task.
Index("ix_tasks_created_at_id", TaskRow.created_at, TaskRow.id)
# A user's tasks in one status, and count_active (user_id = ? AND status IN (...)).
Index(
    "ix_tasks_user_id_status_created_at_id",
    TaskRow.user_id,
    TaskRow.status,
    TaskRow.created_at,
    TaskRow.id,
)
# The outbox relay: pending, undispatched, oldest first.
Index(
    "ix_tasks_pending_dispatched_created_at",
    TaskRow.dispatched,
    TaskRow.created_at,
    **_only_where(PENDING),
)
# The sweep for messages lost on the way: pending, dispatched, due longest ago.
Index(
    "ix_tasks_pending_dispatched_due_at",
    TaskRow.dispatched,
    TaskRow.due_at,
    **_only_where(PENDING),
)
# A reaper of runs whose worker stopped sending heartbeats.
Index("ix_tasks_status_heartbeat_at", TaskRow.status, TaskRow.heartbeat_at)
# A concurrency key's slot holders and held tasks (application/flow_control.py).
Index(
    "ix_tasks_concurrency_key_status",
    TaskRow.concurrency_key,
    TaskRow.status,
    **_only_where(TaskRow.concurrency_key.is_not(None)),
)
# Held tasks by reason, for fair sharing's and rate limits' releases, in release order.
Index(
    "ix_tasks_held_priority_user_id_created_at",
    TaskRow.held,
    TaskRow.priority,
    TaskRow.user_id,
    TaskRow.created_at,
    **_only_where(TaskRow.held.is_not(None)),
)
# Filtering by model, and the ON DELETE SET NULL when a model goes.
Index("ix_tasks_model_id", TaskRow.model_id, **_only_where(TaskRow.model_id.is_not(None)))
# Delayed tasks coming due: pending, unpublished, earliest run_at first.
Index(
    "ix_tasks_pending_dispatched_run_at",
    TaskRow.dispatched,
    TaskRow.run_at,
    **_only_where(PENDING),
)
# A schedule's runs (its overlap rule, its latest runs).
Index(
    "ix_tasks_schedule_id_created_at",
    TaskRow.schedule_id,
    TaskRow.created_at,
    **_only_where(TaskRow.schedule_id.is_not(None)),
)
# The scheduler's tick: unpaused schedules due soonest; a user's schedules, newest first.
Index("ix_schedules_paused_next_fire_at", ScheduleRow.paused, ScheduleRow.next_fire_at)
Index(
    "ix_schedules_user_id_created_at_id",
    ScheduleRow.user_id,
    ScheduleRow.created_at.desc(),
    ScheduleRow.id.desc(),
)
Index("ix_schedules_created_at_id", ScheduleRow.created_at, ScheduleRow.id)
# A workflow's tasks, read whenever one of them ends; with the status, whether any is
# unfinished is one probe.
Index(
    "ix_tasks_workflow_id_status",
    TaskRow.workflow_id,
    TaskRow.status,
    **_only_where(TaskRow.workflow_id.is_not(None)),
)
# A user's workflows newest first, optionally in one status; admins list every workflow.
Index(
    "ix_workflows_user_id_status_created_at_id",
    WorkflowRow.user_id,
    WorkflowRow.status,
    WorkflowRow.created_at,
    WorkflowRow.id,
)
Index(
    "ix_workflows_user_id_created_at_id",
    WorkflowRow.user_id,
    WorkflowRow.created_at,
    WorkflowRow.id,
)
Index("ix_workflows_created_at_id", WorkflowRow.created_at, WorkflowRow.id)

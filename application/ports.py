"""The ports: what the use cases need from the outside world, as abstract base classes, so
that an adapter missing a method fails when it is instantiated, and mypy says so where it is
defined."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from application.running.outcomes import Execution, Outcome, TaskRun
from domain.attempt import Attempt, TaskLogLine
from domain.event import EventKind, TaskEvent
from domain.flow import ConcurrencyRule, HoldReason, RateLimit
from domain.idempotency import IdempotentRequest
from domain.model import Model, ModelId, ModelStatus
from domain.schedule import Cron, Fire, Schedule, ScheduleId
from domain.task import Priority, RunCompletion, RunStart, Task, TaskId, TaskStatus
from domain.user import Email, User, UserId
from domain.webhook import (
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookEndpoint,
    WebhookEndpointId,
)
from domain.workflow import Node, Workflow, WorkflowId, WorkflowStatus

if TYPE_CHECKING:
    from application.running.context import RunContext


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in a listing ordered newest first: (created_at, id) of the last row seen."""

    created_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class Upstream:
    """What a task reads of one task it depends on: how it ended, and its result or error."""

    status: str
    result: Any = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "result": self.result, "error": self.error}


@dataclass(frozen=True, slots=True)
class TaskQuery:
    owner_id: UserId | None = None  # None: every owner (admins only)
    status: TaskStatus | None = None
    task_type: str | None = None
    priority: Priority | None = None
    model_id: ModelId | None = None
    name_contains: str | None = None  # a substring of the name, whatever its case
    created_after: datetime | None = None  # strictly after
    created_before: datetime | None = None  # strictly before
    schedule_id: ScheduleId | None = None  # the runs of one schedule
    after: Cursor | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class WorkflowQuery:
    owner_id: UserId | None = None  # None: every owner (admins only)
    status: WorkflowStatus | None = None
    after: Cursor | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class ModelQuery:
    owner_id: UserId | None = None
    status: ModelStatus | None = None
    after: Cursor | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class QueueLoad:
    """One queue's tasks as the database sees them: `unclaimed` were published and no worker
    has claimed them (waiting on the broker, or reserved by a worker's prefetch), `held`
    are kept back unpublished, per reason; `oldest_pending_at` is the oldest of both."""

    queue: str
    unclaimed: int = 0
    running: int = 0
    held: dict[str, int] = field(default_factory=dict)
    oldest_pending_at: datetime | None = None

    @staticmethod
    def add_up(
        groups: Sequence[tuple[str, TaskStatus, str | None, int, datetime | None]],
    ) -> list[QueueLoad]:
        """Loads from (queue, status, held, count, oldest created_at) groups of pending and
        running tasks, so every repository adds them up alike; ordered by queue."""
        loads: dict[str, QueueLoad] = {}
        for queue, status, held, count, oldest in groups:
            load = loads.setdefault(queue, QueueLoad(queue))
            if status is TaskStatus.RUNNING:
                load = replace(load, running=load.running + count)
            else:
                if held is None:
                    load = replace(load, unclaimed=load.unclaimed + count)
                else:
                    load = replace(load, held={**load.held, held: load.held.get(held, 0) + count})
                if oldest is not None and (
                    load.oldest_pending_at is None or oldest < load.oldest_pending_at
                ):
                    load = replace(load, oldest_pending_at=oldest)
            loads[queue] = load
        return [loads[queue] for queue in sorted(loads)]


@dataclass(frozen=True, slots=True)
class HeldGroup:
    """How many pending tasks of one priority, owner and type are held back for one reason."""

    priority: Priority
    owner_id: UserId
    task_type: str
    count: int


class TaskRepository(ABC):
    @abstractmethod
    def add(self, task: Task) -> None:
        """Stage a new task; written when the unit of work commits."""

    @abstractmethod
    def add_many(self, tasks: Sequence[Task]) -> None:
        """Stage new tasks, in one statement where the database allows; written when the
        unit of work commits. Raises AlreadyExistsError when an id is taken."""

    @abstractmethod
    def get(self, task_id: TaskId) -> Task:
        """Load a task. Raises NotFoundError."""

    @abstractmethod
    def start_run(self, task_id: TaskId, start: RunStart) -> Task:
        """Claim the task for a run in one statement, without reading it first: it moves to
        running as `start` says (`Task.start`), where its status is one of `RunStart.FROM`.
        Returns it as stored. Raises NotFoundError, InvalidTransitionError (its status
        allows no start: cancelled, finished, or claimed by another delivery first)."""

    @abstractmethod
    def complete_run(self, task_id: TaskId, completion: RunCompletion) -> Task:
        """Store a run's completion in one statement, without reading the task first: as
        `Task.complete` would, where the task is running under `completion.run_token`.
        Returns it as stored. Raises NotFoundError, StaleRunError (the run is not the
        task's current one: cancelled, taken back, claimed again)."""

    @abstractmethod
    def update(self, task: Task) -> None:
        """Write the task's changed fields, compare-and-set on the status and run token it
        had when loaded. Raises ConcurrencyConflictError when another writer got there first."""

    @abstractmethod
    def update_many(self, tasks: Sequence[Task]) -> None:
        """`update` for each of `tasks`, written together (one statement for all that changed
        the same fields). Raises ConcurrencyConflictError when another writer got to any of
        them first; what was written of the others is rolled back with the transaction."""

    @abstractmethod
    def delete(self, task: Task) -> None: ...

    @abstractmethod
    def find(self, query: TaskQuery) -> list[Task]:
        """Tasks matching `query`, newest first (created_at, then id, descending), at most
        `query.limit`, strictly after `query.after` when given."""

    @abstractmethod
    def count_active(self, owner_id: UserId, *, up_to: int | None = None) -> int:
        """How many of the owner's tasks are unfinished (waiting, pending or running);
        with `up_to`, counting stops there, so a check against a limit reads at most that
        many of them however many there are."""

    @abstractmethod
    def count_by_status(self) -> dict[TaskStatus, int]:
        """How many tasks, of every owner, are in each status; a status no task is in is
        left out. One aggregate query, never a load of the rows."""

    @abstractmethod
    def mark_dispatched(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None:
        """Record that the broker accepted these tasks (a flag, not a status change)."""

    @abstractmethod
    def list_undispatched(self, *, created_before: datetime, limit: int) -> list[Task]:
        """Pending tasks the broker never accepted, oldest first. Rows another caller has
        locked for the same purpose are skipped where the database can tell."""

    @abstractmethod
    def mark_pending_undispatched(self) -> int:
        """Clear the dispatched flag of every pending task, in one statement, so the relay
        publishes them again (their messages may be lost); how many had it set."""

    @abstractmethod
    def oldest_waiting_by_queue(self) -> dict[str, datetime]:
        """Per queue, the earliest time a pending task became due to run (its `due_at`, else
        its creation); a queue without pending tasks is left out. One aggregate query."""

    @abstractmethod
    def count_active_by_queue(self) -> dict[str, int]:
        """Per queue, tasks pending or running: the work its workers have or will have,
        whether its message waits on the broker, sits in a worker's prefetch or runs."""

    @abstractmethod
    def count_undispatched(self) -> int:
        """Pending tasks the broker never accepted: the relay's backlog."""

    @abstractmethod
    def count_overdue(self, *, due_before: datetime) -> dict[str, int]:
        """Per queue, pending tasks whose message went out and was due before `due_before`,
        yet no worker has claimed them."""

    @abstractmethod
    def list_overdue(self, *, queue: str, due_before: datetime, limit: int) -> list[Task]:
        """Those tasks of one queue, due longest ago first, skipping rows locked by a
        concurrent caller where the database can tell."""

    @abstractmethod
    def list_due_delayed(self, *, now: datetime, limit: int) -> list[Task]:
        """Delayed tasks whose run_at has come (pending, unpublished, run_at <= now), run_at
        earliest first, skipping rows locked by a concurrent caller where the database can
        tell."""

    @abstractmethod
    def list_unfinished_of_schedule(self, schedule_id: ScheduleId) -> list[Task]:
        """The schedule's runs that are pending or running, oldest first."""

    @abstractmethod
    def list_stale_running(self, *, heartbeat_before: datetime, limit: int) -> list[Task]:
        """Running tasks whose last heartbeat is older than `heartbeat_before`, oldest first,
        as read (nothing held: hold their workflows, then `hold_stale_running`, to change
        them)."""

    @abstractmethod
    def hold_stale_running(
        self, task_ids: Collection[TaskId], *, heartbeat_before: datetime
    ) -> list[Task]:
        """Those of `task_ids` still running and silent since before `heartbeat_before`, read
        again and held until the transaction ends, taken in id order (the lock order of
        docs/adr/0018), skipping rows a concurrent caller holds where the database can tell.
        Hold the tasks' workflows first."""

    @abstractmethod
    def delete_finished_before(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to `limit` terminal tasks that finished before `cutoff`; how many went.
        A workflow's tasks are not: they go with their workflow."""

    @abstractmethod
    def of_workflow(
        self, workflow_id: WorkflowId, *, keys: Collection[str] | None = None
    ) -> list[Task]:
        """Every task of the workflow (only those of `keys`, if given), in no order."""

    @abstractmethod
    def workflow_statuses(self, workflow_id: WorkflowId) -> dict[str, TaskStatus]:
        """Key -> status of each task of the workflow, read without loading the tasks: what
        settling a workflow whose last task ended needs."""

    @abstractmethod
    def upstream_of(self, workflow_id: WorkflowId, *, keys: Collection[str]) -> dict[str, Upstream]:
        """Key -> how each task of `keys` in the workflow ended, read without loading the
        tasks: what a claim hands a workflow task's function."""

    @abstractmethod
    def meet_dependency(
        self, workflow_id: WorkflowId, keys: Collection[str]
    ) -> tuple[int, list[Task]]:
        """One more dependency met for each waiting task of the workflow among `keys`
        (their `unmet_dependencies` counted down by one statement, not read first).
        Returns how many of them were waiting, and those for which it was the last, loaded
        with none left unmet, for the caller to release."""

    @abstractmethod
    def workflow_has_unfinished_tasks(self, workflow_id: WorkflowId) -> bool:
        """Whether any task of the workflow is not terminal yet. Asked at every task's end,
        so it must not read the workflow's other tasks (an indexed probe)."""

    @abstractmethod
    def workflow_nodes(self, workflow_id: WorkflowId) -> list[Node]:
        """The workflow's graph: each task's key and the keys it depends on."""

    # --- flow control: concurrency keys (application/flow_control.py) -------------------

    @abstractmethod
    def lock_concurrency_key(self, key: str) -> None:
        """Hold the concurrency key until the transaction ends: whoever counts its slots
        and admits or releases tasks of it does so one at a time (PostgreSQL: a transaction
        advisory lock; SQLite: its write lock). Take it before counting."""

    @abstractmethod
    def count_slot_holders(self, key: str) -> int:
        """Tasks of the key that hold a slot: running, or pending and not held back."""

    @abstractmethod
    def queue_loads(self) -> list[QueueLoad]:
        """Per queue with any pending or running task, its load, from one aggregate query."""

    @abstractmethod
    def count_queued_ahead(self, task: Task) -> int:
        """Dispatched, pending, unclaimed tasks of `task`'s queue that became due before it."""

    @abstractmethod
    def list_held(self, key: str, *, limit: int) -> list[Task]:
        """Pending tasks of the key held back for a slot, in release order (priority, then
        age), skipping rows another transaction has locked where the database can tell."""

    # --- flow control: fair sharing and rate limits (release_held_tasks.py) ---------------

    @abstractmethod
    def count_held_before(
        self, task: Task, *, owner_id: UserId | None = None, task_type: str | None = None
    ) -> int:
        """Pending tasks held for the same reason as `task`, of its priority (and owner, and
        type, when given), created before it: those released before it among them."""

    @abstractmethod
    def held_groups(self, reason: HoldReason) -> list[HeldGroup]:
        """Pending tasks held back for `reason`, counted per priority, owner and type."""

    @abstractmethod
    def list_held_for(
        self,
        reason: HoldReason,
        *,
        priority: Priority,
        owner_id: UserId | None = None,
        task_type: str | None = None,
        limit: int,
    ) -> list[Task]:
        """Pending tasks held back for `reason` of that priority (and owner, and type, when
        given), oldest first, skipping rows another transaction has locked where the
        database can tell (a held task being cancelled)."""


class WorkflowRepository(ABC):
    @abstractmethod
    def add(self, workflow: Workflow) -> None:
        """Stage a new workflow; add its tasks after it."""

    @abstractmethod
    def get(self, workflow_id: WorkflowId) -> Workflow:
        """Raises NotFoundError."""

    @abstractmethod
    def lock(self, workflow_id: WorkflowId) -> Workflow:
        """Hold the workflow until the transaction ends, as `UserRepository.lock` holds a
        user: what decides the next steps of its tasks (releases, cancels) happens one
        transaction at a time per workflow, each seeing what the one before committed.
        Returns it as it stands, read by the statement that holds it; holding it again in
        the same transaction reads nothing. Raises NotFoundError."""

    @abstractmethod
    def update(self, workflow: Workflow) -> None:
        """Write the workflow's status and completion time."""

    @abstractmethod
    def delete(self, workflow: Workflow) -> None:
        """Delete the workflow and its tasks."""

    @abstractmethod
    def find(self, query: WorkflowQuery) -> list[Workflow]:
        """Workflows matching `query`, newest first, like the task listing."""


class UserRepository(ABC):
    @abstractmethod
    def add(self, user: User) -> None:
        """Stage a new user. Raises AlreadyExistsError for a taken email."""

    @abstractmethod
    def get(self, user_id: UserId) -> User:
        """Raises NotFoundError."""

    @abstractmethod
    def find_by_email(self, email: Email) -> User | None: ...

    @abstractmethod
    def update(self, user: User) -> None: ...

    @abstractmethod
    def lock(self, user_id: UserId) -> User:
        """Hold the user until the transaction ends: another transaction locking the same
        user waits until then. Serializes what must be decided one at a time per user (the
        active-task quota's count, then the insert). Lock before reading what it guards.
        Returns the user as it stands, read by the statement that holds it; holding it
        again in the same transaction reads nothing. Raises NotFoundError."""

    @abstractmethod
    def find(self, *, after: Cursor | None, limit: int) -> list[User]:
        """Users newest first, like the task listing."""

    @abstractmethod
    def share_weights(self, user_ids: Collection[UserId]) -> dict[UserId, int]:
        """The fair-share weight of each of these users that exists."""


class ModelRepository(ABC):
    @abstractmethod
    def add(self, model: Model) -> None:
        """Stage a new model. Raises AlreadyExistsError when the owner has one of that name."""

    @abstractmethod
    def get(self, model_id: ModelId) -> Model:
        """Raises NotFoundError."""

    @abstractmethod
    def update(self, model: Model) -> None:
        """Write the model, compare-and-set on the status it had when loaded.
        Raises ConcurrencyConflictError or AlreadyExistsError (renamed onto a taken name)."""

    @abstractmethod
    def delete(self, model: Model) -> None: ...

    @abstractmethod
    def find(self, query: ModelQuery) -> list[Model]: ...


class IdempotencyKeyRepository(ABC):
    """The idempotency keys of submissions, per user."""

    @abstractmethod
    def hold(self, user_id: UserId, key: str) -> bool:
        """Hold the key until the transaction ends; False when another transaction holds
        it (a concurrent request with that key), where the database can tell. Hold before
        reading it."""

    @abstractmethod
    def get(self, user_id: UserId, key: str) -> IdempotentRequest | None: ...

    @abstractmethod
    def add(self, request: IdempotentRequest) -> None:
        """Stage the key with what its request created. Raises AlreadyExistsError."""

    @abstractmethod
    def delete_created_before(self, cutoff: datetime) -> int:
        """Forget the keys made before `cutoff`; how many went."""


class EventRepository(ABC):
    """Task events, numbered per user in the order their transactions commit."""

    @abstractmethod
    def next_sequence(self, user_id: UserId, count: int = 1) -> int:
        """The first of the user's next `count` event numbers (consecutive). Holds the user
        until the transaction ends, so a later number is never visible before an earlier
        one."""

    @abstractmethod
    def add(self, event: TaskEvent) -> None:
        """Stage the event; after the commit it is also handed to the EventChannel."""

    def add_many(self, events: Sequence[TaskEvent]) -> None:
        """Stage the events, as `add` each."""
        for event in events:
            self.add(event)

    def wants_webhooks(self, user_id: UserId) -> bool:
        """Whether the user's events may have webhook deliveries (the user has, or had, an
        endpoint or a callback secret). True unless known otherwise: an adapter that reads
        it with the user's event number spares the users without webhooks a query."""
        return True

    def record(
        self,
        user_id: UserId,
        task_id: TaskId,
        kind: EventKind,
        data: dict[str, Any],
        occurred_at: datetime,
    ) -> TaskEvent:
        """Number an event in its user's sequence and stage it (`next_sequence`, then `add`;
        an adapter may do both in one step). Returns it numbered."""
        event = TaskEvent(
            user_id=user_id,
            sequence=self.next_sequence(user_id),
            task_id=task_id,
            kind=kind,
            data=data,
            occurred_at=occurred_at,
        )
        self.add(event)
        return event

    @abstractmethod
    def after(
        self, user_id: UserId, sequence: int, *, task_id: TaskId | None = None, limit: int
    ) -> list[TaskEvent]:
        """The user's events numbered above `sequence` (of one task if given), in order."""

    @abstractmethod
    def latest(self, task_id: TaskId, kind: EventKind | None = None) -> TaskEvent | None:
        """The task's newest event (of that kind)."""

    @abstractmethod
    def last_sequence(self, user_id: UserId) -> int:
        """The user's newest event number; 0 when none."""

    @abstractmethod
    def delete_before(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to `limit` events older than `cutoff`; how many went."""


class EventChannel(ABC):
    """Fans committed events out to whoever follows them live (the API's streams). Only a
    hint that something is new: the events table is the truth, so a lost message costs a
    stream a late event at most, never a wrong one."""

    @abstractmethod
    def publish(self, events: Sequence[TaskEvent]) -> None:
        """Called after the commit. Never raises."""


@dataclass(frozen=True, slots=True)
class ScheduleQuery:
    owner_id: UserId | None = None  # None: every owner (admins only)
    after: Cursor | None = None
    limit: int = 50


class ScheduleRepository(ABC):
    @abstractmethod
    def add(self, schedule: Schedule) -> None: ...

    @abstractmethod
    def get(self, schedule_id: ScheduleId) -> Schedule:
        """Raises NotFoundError."""

    @abstractmethod
    def update(self, schedule: Schedule) -> None:
        """Write the schedule, fenced: refused with FencedOffError when a scheduler holding a
        newer lease than `schedule.fence` has written it since, and with
        ConcurrencyConflictError when another writer changed it since it was read."""

    @abstractmethod
    def delete(self, schedule: Schedule) -> None:
        """Remove the schedule and its ledger; its past runs stay, unlinked."""

    @abstractmethod
    def find(self, query: ScheduleQuery) -> list[Schedule]:
        """Newest first, like the task listing."""

    @abstractmethod
    def count_of_owner(self, owner_id: UserId) -> int: ...

    @abstractmethod
    def list_due(self, *, now: datetime, limit: int) -> list[Schedule]:
        """Unpaused schedules whose next fire time has come, earliest first."""

    @abstractmethod
    def raise_fence(self, *, at_least: int) -> int:
        """A fence of at least `at_least` and above every fence stored on a schedule, written
        on every schedule (their versions unchanged); returns it."""


class ScheduleFireRepository(ABC):
    """The fire ledger: one row per (schedule, fire time), enforced by the database."""

    @abstractmethod
    def add_many(self, fires: Sequence[Fire]) -> None:
        """Stage ledger rows. Raises AlreadyExistsError, at the latest on commit, when a fire
        time of the schedule is already recorded."""

    @abstractmethod
    def find(self, schedule_id: ScheduleId, *, before: datetime | None, limit: int) -> list[Fire]:
        """The schedule's ledger, latest fire time first, strictly before `before`."""


class AttemptRepository(ABC):
    """Each task's ended runs. Rows go with their task (purged, deleted)."""

    @abstractmethod
    def add(self, attempt: Attempt) -> None:
        """Stage the attempt; one per (task, number): adding a recorded one again does nothing."""

    @abstractmethod
    def list(self, task_id: TaskId) -> list[Attempt]:
        """The task's attempts, first first."""

    @abstractmethod
    def ended_since(self, since: datetime, *, limit: int) -> builtins.list[Attempt]:
        """Every task's attempts that ended after `since`, latest first, at most `limit`."""


class TaskLogRepository(ABC):
    """The lines each task's runs logged, at most a fixed number per task (oldest dropped).
    Rows go with their task."""

    @abstractmethod
    def append(self, lines: Sequence[TaskLogLine], *, keep: int) -> list[TaskLogLine]:
        """Stage the lines of one task, numbered after its last; then drop all but the task's
        newest `keep`. Returns the lines as numbered."""

    @abstractmethod
    def page(self, task_id: TaskId, *, after: int | None, limit: int) -> list[TaskLogLine]:
        """The task's lines oldest first, those with `seq` above `after`, at most `limit`."""


class WebhookRepository(ABC):
    """Webhook endpoints, the callback URLs of tasks and their signing secrets, and the
    deliveries (the webhooks' outbox, staged in the transaction of their event)."""

    @abstractmethod
    def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    @abstractmethod
    def get_endpoint(self, endpoint_id: WebhookEndpointId) -> WebhookEndpoint:
        """Raises NotFoundError."""

    @abstractmethod
    def update_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    @abstractmethod
    def delete_endpoint(self, endpoint: WebhookEndpoint) -> None:
        """Delete the endpoint and its deliveries."""

    @abstractmethod
    def endpoints_of(self, user_id: UserId) -> list[WebhookEndpoint]:
        """The user's endpoints, oldest first."""

    @abstractmethod
    def set_callback(self, subject_id: UUID, url: str) -> None:
        """Stage the URL told of a task's or a workflow's end."""

    @abstractmethod
    def callback_of(self, subject_id: UUID) -> str | None: ...

    @abstractmethod
    def callback_secret(self, user_id: UserId) -> str | None:
        """The secret the user's callback deliveries are signed with; None until issued."""

    @abstractmethod
    def set_callback_secret(self, user_id: UserId, secret: str) -> None: ...

    @abstractmethod
    def add_delivery(self, delivery: WebhookDelivery) -> None: ...

    @abstractmethod
    def get_delivery(self, delivery_id: WebhookDeliveryId) -> WebhookDelivery:
        """Raises NotFoundError."""

    @abstractmethod
    def update_delivery(self, delivery: WebhookDelivery) -> None: ...

    @abstractmethod
    def deliveries_of(self, endpoint_id: WebhookEndpointId, *, limit: int) -> list[WebhookDelivery]:
        """The endpoint's deliveries, newest event first."""

    @abstractmethod
    def delete_finished_deliveries_before(self, cutoff: datetime, *, limit: int) -> int:
        """Delete up to `limit` deliveries that succeeded or failed and were made before
        `cutoff`; how many went. Pending ones stay, however old."""

    @abstractmethod
    def list_due_deliveries(self, *, now: datetime, limit: int) -> list[WebhookDelivery]:
        """Pending deliveries whose next attempt is due and that no sender holds, due
        longest ago first, skipping rows another transaction has locked where the database
        can tell."""


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    """What a receiver answered (`status_code` None: nobody did, `error` says why)."""

    status_code: int | None
    body: bytes = b""
    error: str | None = None


class WebhookSender(ABC):
    """Sends one webhook over HTTP: refuses addresses the address guard forbids (after
    resolving the name, on every call), follows no redirect, gives up after its timeout."""

    @abstractmethod
    def send(self, url: str, *, headers: dict[str, str], body: bytes) -> WebhookResponse:
        """Never raises for what the receiver (or the way to it) did wrong: that is an answer."""


class WebhookQueue(ABC):
    """Hands claimed deliveries to the senders (the workers of the webhooks queue)."""

    @abstractmethod
    def enqueue(self, delivery_ids: Sequence[WebhookDeliveryId]) -> None:
        """Raises DependencyUnavailableError when the queue cannot take them."""


class UnitOfWork(ABC):
    """One transaction per `with` block: rolled back on exit unless `commit()` was called.

    The same object may be entered again, sequentially, for a new transaction.
    """

    tasks: TaskRepository
    users: UserRepository
    models: ModelRepository
    idempotency_keys: IdempotencyKeyRepository
    events: EventRepository
    schedules: ScheduleRepository
    schedule_fires: ScheduleFireRepository
    workflows: WorkflowRepository
    attempts: AttemptRepository
    task_logs: TaskLogRepository
    webhooks: WebhookRepository

    @abstractmethod
    def __enter__(self) -> Self: ...

    @abstractmethod
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def lock_for_writing(self) -> None:
        """Take, for the rest of the transaction, the lock a database with one writer at a
        time (SQLite) gives each write; nothing where writers lock rows (PostgreSQL). It
        returns once this transaction's writes can go through: how long that took tells how
        long writers were held. Raises DependencyUnavailableError past the busy timeout."""


class DispatchRecorder(ABC):
    """Sets the `dispatched` flag of tasks whose messages went out (the outbox's second
    half). It may write later than asked, batched: until it has, the relay would publish
    such a task again after its grace period, a copy the worker's claim turns into a no-op.
    Never raises: a flag it could not write leaves the same harmless copy to the relay."""

    @abstractmethod
    def record(self, task_ids: Sequence[TaskId], *, due_at: datetime) -> None: ...


class TaskDispatcher(ABC):
    """Hands tasks to the broker, and tells when the broker may have lost what it accepted.

    An *epoch* is one stretch of the broker's memory. A broker that can lose messages it
    acknowledged (Redis: restarted without its data, a crash inside the append-only file's
    fsync window, a failover to a replica that lagged behind) starts a new epoch whenever
    that may have happened. The epoch last marked recovered is kept in the broker itself,
    so every process (and every restart of one) agrees on it.
    """

    @abstractmethod
    def enqueue(self, tasks: Sequence[Task], *, countdown: float | None = None) -> None:
        """Hand the tasks to the broker on their priority's queue, the task id as message id.
        All or nothing as far as the broker allows. Raises DependencyUnavailableError."""

    @abstractmethod
    def revoke(self, task_id: TaskId) -> None:
        """Ask workers not to start, and to stop, the task. Best effort.
        Raises DependencyUnavailableError."""

    @abstractmethod
    def new_epoch(self) -> str | None:
        """The broker's current epoch if it is not the one last marked recovered (so also
        when none ever was): messages accepted before it may be gone. None otherwise, and
        always for a broker that keeps every message it acknowledged. Only reads: the same
        answer until `mark_epoch_recovered`. Raises DependencyUnavailableError."""

    @abstractmethod
    def mark_epoch_recovered(self, epoch: str) -> None:
        """Record that every task that may have had a message in the broker before `epoch`
        will be published again, so `new_epoch` answers None until the next epoch. Given
        the epoch `new_epoch` returned, not the current one: an epoch that began in between
        is still reported. Raises DependencyUnavailableError."""


@dataclass(frozen=True, slots=True)
class TaskTypeSpec:
    """What the catalog knows of one task type: its defaults and the schema of its arguments."""

    name: str
    description: str
    default_priority: Priority = Priority.NORMAL
    max_attempts: int = 3
    soft_time_limit: float | None = None
    time_limit: float | None = None
    arguments_schema: dict[str, Any] = field(default_factory=dict)
    internal: bool = False  # created by taskhub itself (model tasks); clients cannot submit it
    # At most so many tasks of one key at once (domain/flow.py); None: no restriction.
    concurrency: ConcurrencyRule | None = None
    # Argument fields stored encrypted and never shown (application/secret_values.py).
    secret_fields: frozenset[str] = frozenset()
    # The result stored encrypted, shown only through GET /tasks/{id}/result.
    secret_result: bool = False
    # How its result is best read (one of RESULT_VIEWS); None: judged from the value's shape.
    result_view: str | None = None
    # At most so many tasks released per second, minute or hour, across every worker.
    rate_limit: RateLimit | None = None


RESULT_VIEWS = ("chart", "table", "labelled", "tree")


class SecretCipher(ABC):
    """Encrypts the secret values of tasks for storage and opens them for the run that
    needs them. Several keys may open a token; only the newest seals."""

    @abstractmethod
    def encrypt(self, plaintext: str) -> str:
        """An opaque token of `plaintext`, under the newest key. Raises
        SecretUnreadableError when no key is configured."""

    @abstractmethod
    def decrypt(self, token: str) -> str:
        """The plaintext. Raises SecretUnreadableError when no key opens the token (a lost
        or wrong key, or a token that was tampered with)."""

    @abstractmethod
    def rotate(self, token: str) -> str:
        """The same plaintext as a token under the newest key. Raises
        SecretUnreadableError as `decrypt` does."""


@dataclass(frozen=True, slots=True)
class SealedValues:
    """What of one task may hold sealed values."""

    task_id: TaskId
    kwargs: dict[str, Any]
    result: Any


class SealedValueStore(ABC):
    """The stored tasks that hold sealed values, for re-encrypting them under a new key."""

    @abstractmethod
    def sealed_after(self, after: TaskId | None, limit: int) -> list[SealedValues]:
        """Up to `limit` tasks whose arguments or result hold a sealed value, in id order
        after `after`."""

    @abstractmethod
    def replace(self, resealed: Sequence[SealedValues]) -> None:
        """Store each task's kwargs and result as given (re-sealed), in one transaction.
        A task's arguments never change after submission and its result once stored never
        changes either, so a value read and re-sealed can be written back as it is."""


class TaskTypeCatalog(ABC):
    @abstractmethod
    def all(self) -> list[TaskTypeSpec]: ...

    @abstractmethod
    def get(self, name: str) -> TaskTypeSpec:
        """Raises ValidationError(field='task_type') for an unknown type."""

    @abstractmethod
    def validate_arguments(
        self, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """The arguments as the task type will receive them (JSON values, defaults applied).
        Raises ValidationError naming the offending field (e.g. 'kwargs.seconds')."""


class PasswordHasher(ABC):
    @abstractmethod
    def hash(self, password: str) -> str:
        """Raises ValidationError for a password the algorithm cannot take whole."""

    @abstractmethod
    def verify(self, password: str, hashed: str | None) -> bool:
        """True when `password` matches `hashed`. With `hashed=None`, checks against a dummy
        hash of the same cost and returns False, so an unknown account takes as long as a
        wrong password. Never raises for a bad password."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str = field(repr=False)
    expires_in: int  # seconds


@dataclass(frozen=True, slots=True)
class TokenSubject:
    """Whom a token was issued to, and the user's token version at the time."""

    user_id: UserId
    version: int


STREAM_SCOPE = "events:read"


class TokenService(ABC):
    @abstractmethod
    def issue(self, user_id: UserId, version: int) -> AccessToken: ...

    @abstractmethod
    def issue_scoped(
        self, user_id: UserId, version: int, *, scope: str, lifetime_seconds: int
    ) -> AccessToken:
        """A short-lived token good only where `scope` is accepted (STREAM_SCOPE: reading
        event streams, where browsers must pass it in the URL)."""

    @abstractmethod
    def verify(self, token: str, *, scope: str | None = None) -> TokenSubject:
        """Whom the token was issued to. A scoped token is refused unless `scope` names its
        scope; an unscoped one is good everywhere. Raises AuthenticationError for a token
        that is malformed, too long, expired, valid for longer than tokens are issued for,
        unsigned or signed otherwise."""


class LoginThrottle(ABC):
    """Slows password guessing down, per key (an account from one client address, a client
    address): a few failed logins are free, then each key must wait before its next attempt,
    the wait doubling with every further failure up to a cap. Never a lock for good; a quiet
    key starts afresh."""

    @abstractmethod
    def check(self, keys: Sequence[str]) -> None:
        """Raise TooManyAttemptsError, with the longest wait of any key, if one must wait."""

    @abstractmethod
    def record_failure(self, keys: Sequence[str]) -> None: ...

    @abstractmethod
    def reset(self, keys: Sequence[str]) -> None:
        """Forget the keys' failures."""


class QueueDepths(ABC):
    """How many messages wait on the broker in each of taskhub's queues. A message a worker
    holds (running, prefetched, or an ETA it waits for) is not counted."""

    @abstractmethod
    def read(self) -> dict[str, int]:
        """Queue name -> messages waiting. Raises DependencyUnavailableError."""


class WorkerRoster(ABC):
    """Which workers are online now, by the queues they consume."""

    @abstractmethod
    def consumers(self) -> dict[str, int]:
        """Queue name -> workers consuming it that answered just now (a queue no worker
        consumes is absent). Raises DependencyUnavailableError."""


@dataclass(frozen=True, slots=True)
class QueueBacklog:
    """A queue's backlog as last read: messages waiting on the broker, and tasks held back
    for fair sharing in the database."""

    depth: int = 0
    held: int = 0


class QueueBacklogs(ABC):
    """Each queue's backlog, cheap to ask on every submission: the last reading, refreshed
    in the background when it is older than a fraction of a second, never a round trip on
    the caller's path."""

    @abstractmethod
    def latest(self, queue: str) -> QueueBacklog:
        """The last reading of `queue` (zeros before the first one, or while the broker or
        the database cannot be read), its depth counting what `count_published` added
        since. Never raises, never waits for a server."""

    @abstractmethod
    def count_published(self, queue: str, count: int) -> None:
        """This process is publishing `count` more tasks to `queue`: until the next reading
        they count in its depth, so a burst between two readings is seen at once."""


class RateLimiter(ABC):
    """A token bucket per key, shared by every process that asks (Redis in production)."""

    @abstractmethod
    def reserve(self, key: str, limit: RateLimit, count: int, *, horizon: float) -> list[float]:
        """Up to `count` permits for `key` under `limit`, in order: each the delay in
        seconds from now (0 for the first free one) after which it may be used, spaced
        `limit.interval` apart, and none later than `horizon` seconds from now. A permit
        returned is taken, used or not. Raises DependencyUnavailableError."""


class Clock(ABC):
    @abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class CronCalendar(ABC):
    """Reads cron expressions: when a Cron trigger fires, in its own time zone."""

    @abstractmethod
    def check(self, cron: Cron) -> None:
        """Raise ValidationError(field='cron') for an expression that cannot be read."""

    @abstractmethod
    def next_after(self, cron: Cron, after: datetime) -> datetime:
        """The first fire time strictly after `after`, timezone-aware UTC. On a day a wall
        time is skipped (spring forward) it fires once, right after the gap; on a day it
        repeats (fall back) once, at its first occurrence."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A lease on a lock held now. `generation` grows with every new holder: the fencing
    token written beside what the holder does, so an older holder's late writes are refused."""

    generation: int


class LeaseLock(ABC):
    """A named lock for a singleton job (the scheduler, the relay, the reaper) shared by
    every process that could run it: at most one holds it at a time, for a lease that
    expires unless renewed, so another takes over soon after the holder dies."""

    @abstractmethod
    def hold(self) -> Lease | None:
        """Acquire the lock or renew this holder's lease: the lease when this process holds
        it now, None when another does. Raises DependencyUnavailableError."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock up if held, so another may take it at once. Never raises."""


class DependencyProbe(ABC):
    """A cheap liveness check of one backing service, for readiness reports."""

    name: str

    @abstractmethod
    def check(self) -> None:
        """Return when the service answers; raise DependencyUnavailableError otherwise,
        within a couple of seconds at most."""


class TaskContext(ABC):
    """What a running task type's function may ask of the worker running it."""

    task_id: TaskId
    attempt: int
    # A workflow's task: key -> how each task it depends on ended, as
    # {"status": "completed", "result": ..., "error": None}; empty for any other task.
    upstream: dict[str, dict[str, Any]]

    @property
    @abstractmethod
    def owner_id(self) -> UserId | None:
        """The user the task belongs to (None: the system's own)."""

    @property
    @abstractmethod
    def owner_is_admin(self) -> bool:
        """Whether that user is an administrator, as first asked during this run."""

    @abstractmethod
    def progress(self, percent: int, message: str | None = None) -> None:
        """Report progress (0..100, never backwards). Raises TaskCancelledError when the
        task was cancelled meanwhile, so a cooperative task stops right there."""

    @abstractmethod
    def check_cancelled(self) -> None:
        """Raise TaskCancelledError if the task was cancelled; cheap enough for a loop."""

    @abstractmethod
    def log(self, message: str, *, level: str = "info") -> None:
        """Keep a line in the task's log (GET /tasks/{id}/logs), with this attempt's number
        and the time; written in batches, like progress. `level` is debug, info, warning,
        error or critical."""


class TaskExecutor(ABC):
    """Runs the function of a claimed run's task type, in this process."""

    @abstractmethod
    def execute(self, run: TaskRun, context: TaskContext) -> Execution:
        """What the function came to: Completed with its result (a JSON value; the message
        is left to the caller), Retried for an error the task type retries on, Failed for
        any other (an unknown type, bad arguments, a result that is not JSON, the soft time
        limit). Raises TaskCancelledError when the function stopped because its run was
        over (see RunContext); nothing else."""


class RunSupervisor(ABC):
    """Watches a run while its function executes: heart-beats for it, and stops a function
    that goes on after its run was ended from outside (cancelled, deleted, taken back)."""

    @abstractmethod
    def watch(self, context: RunContext) -> AbstractContextManager[object]:
        """Used as `with supervisor.watch(context):` around the execution."""


class RunObserver(ABC):
    """Told when a run starts and how it ended, e.g. to count runs (worker/metrics.py).
    Called on the run's thread: it must be quick and must never raise."""

    @abstractmethod
    def started(self, run: TaskRun) -> None: ...

    @abstractmethod
    def finished(self, run: TaskRun, outcome: Outcome, seconds: float) -> None: ...

"""The Task entity and its state machine: the one place a task's status may change."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, NewType
from uuid import UUID, uuid4

from domain.errors import ConflictError, InvalidTransitionError, StaleRunError, ValidationError
from domain.flow import Concurrency, HoldReason
from domain.model import ModelId
from domain.text import check_plain_text
from domain.user import UserId

if TYPE_CHECKING:
    from domain.workflow import WorkflowId

TaskId = NewType("TaskId", UUID)
RunToken = NewType("RunToken", str)

MAX_NAME_LENGTH = 200
_TASK_TYPE = re.compile(r"[a-z][a-z0-9_.]{0,99}")
DEFAULT_MAX_ATTEMPTS = 3
# A delayed task may wait this long at most: further ahead is more likely a mistake (a year
# typed wrong) than a plan, and a schedule is the tool for it.
MAX_DELAY = timedelta(days=365)


class TaskStatus(enum.StrEnum):
    WAITING = "waiting"
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return not TRANSITIONS[self]


# The whole state machine. RUNNING -> PENDING is a retry: the run ended without a result
# and the task waits for another delivery. Terminal states have no way out.
# WAITING is a workflow task whose dependencies have not all completed: no broker message,
# invisible to the relay and the overdue sweep, until it is released to PENDING.
TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.WAITING: frozenset({TaskStatus.PENDING, TaskStatus.CANCELLED}),
    TaskStatus.PENDING: frozenset({TaskStatus.RUNNING, TaskStatus.CANCELLED}),
    TaskStatus.RUNNING: frozenset(
        {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.PENDING}
    ),
    TaskStatus.COMPLETED: frozenset(),
    TaskStatus.FAILED: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
}

ACTIVE_STATUSES = frozenset(s for s in TaskStatus if not s.is_terminal)


class Priority(enum.StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"

    @property
    def queue(self) -> str:
        return _QUEUES[self]


_QUEUES = {Priority.HIGH: "high_priority", Priority.NORMAL: "default", Priority.LOW: "low_priority"}


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a run has got, in whole percent."""

    percent: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.percent, bool) or not isinstance(self.percent, int):
            raise ValidationError("progress must be a whole number", field="progress")
        if not 0 <= self.percent <= 100:
            raise ValidationError("progress must be between 0 and 100", field="progress")


@dataclass(frozen=True, slots=True)
class TaskError:
    """Why a run failed: the error's type name, its message, and where it was raised (the
    traceback, when the error came from the task's own code)."""

    type: str
    message: str
    traceback: str | None = None

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


def clip_traceback(text: str, limit: int) -> str:
    """`text` within `limit` characters: a traceback's end (the raising frame and the error)
    matters most, so the start is what goes."""
    if len(text) <= limit:
        return text
    marker = f"... ({len(text) - limit} characters clipped)\n"
    return marker + text[len(text) - max(limit - len(marker), 0) :]


@dataclass(frozen=True, slots=True)
class WorkerId:
    """The worker process that runs (or ran) a task's latest attempt."""

    host: str
    pid: int

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


def _validate_name(name: str) -> str:
    stripped = check_plain_text(name, field="name").strip()
    if not stripped:
        raise ValidationError("name must not be blank", field="name")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ValidationError(f"name must be at most {MAX_NAME_LENGTH} characters", field="name")
    return stripped


def _check_run_at(run_at: datetime, now: datetime) -> datetime:
    if run_at.tzinfo is None or run_at.utcoffset() is None:
        raise ValidationError("run_at must carry a time zone offset", field="run_at")
    if run_at - now > MAX_DELAY:
        raise ValidationError(f"run_at must be at most {MAX_DELAY.days} days ahead", field="run_at")
    return run_at


@dataclass(eq=False, kw_only=True)
class Task:
    """A unit of background work owned by a user.

    Identity is the id: two Task objects with the same id are the same task.
    """

    id: TaskId
    name: str
    task_type: str
    user_id: UserId
    created_at: datetime
    priority: Priority = Priority.NORMAL
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    model_id: ModelId | None = None
    status: TaskStatus = TaskStatus.PENDING
    progress: Progress = Progress()
    progress_message: str | None = None
    result: Any = None
    error: TaskError | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    heartbeat_at: datetime | None = None
    attempts: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    run_token: RunToken | None = None
    # Outbox flag: False until the broker has accepted the message (see docs/adr).
    dispatched: bool = False
    # When the latest message became takeable by a worker: its publish, or the end of a
    # retry's backoff. A pending task still unclaimed long after it lost its message.
    due_at: datetime | None = None
    # The id of the API request that submitted the task, to follow it through the logs.
    request_id: str | None = None
    # The key whose slots the task needs, if its type restricts concurrency (domain/flow.py).
    concurrency: Concurrency | None = None
    # Why a pending task is held in the database, unpublished; None once released. A held
    # task holds no slot and no broker message, and the relay and the sweep pass it by.
    held: HoldReason | None = None
    # A delayed task: no message is published before this time (held in the database, not
    # in the broker or a worker's memory). None: as soon as submitted.
    run_at: datetime | None = None
    # The schedule whose fire created the task, and that fire's time.
    schedule_id: UUID | None = None
    fire_time: datetime | None = None
    # A workflow's task: its workflow, its key there, and the keys of the tasks it waits for.
    workflow_id: WorkflowId | None = None
    workflow_key: str | None = None
    depends_on: list[str] = field(default_factory=list)
    # How many of `depends_on` a waiting task still waits for: counted down as each one
    # ends the way the workflow asks (`dependency_met`), so a task's end looks only at its
    # own dependents, never at the whole workflow.
    unmet_dependencies: int = 0
    # The trace the submission started, when tracing is on: a bug report leads to it.
    trace_id: str | None = None
    # The task this one re-runs (POST /tasks/{id}/retry); the original is left as it was.
    retry_of: TaskId | None = None
    # Who runs, or last ran, the task.
    worker: WorkerId | None = None

    @classmethod
    def submit(
        cls,
        *,
        name: str,
        task_type: str,
        user_id: UserId,
        at: datetime,
        priority: Priority = Priority.NORMAL,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        model_id: ModelId | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        task_id: TaskId | None = None,
        request_id: str | None = None,
        concurrency: Concurrency | None = None,
        run_at: datetime | None = None,
        schedule_id: UUID | None = None,
        fire_time: datetime | None = None,
        workflow_id: WorkflowId | None = None,
        workflow_key: str | None = None,
        depends_on: list[str] | None = None,
        trace_id: str | None = None,
        retry_of: TaskId | None = None,
    ) -> Task:
        """A new task: pending, or waiting when it depends on other tasks of its workflow."""
        if not _TASK_TYPE.fullmatch(task_type):
            raise ValidationError(
                "task_type must be lower-case letters, digits, '_' or '.'", field="task_type"
            )
        if max_attempts < 1:
            raise ValidationError("max_attempts must be at least 1", field="max_attempts")
        return cls(
            id=task_id or TaskId(uuid4()),
            name=_validate_name(name),
            task_type=task_type,
            user_id=user_id,
            created_at=at,
            priority=priority,
            args=list(args or []),
            kwargs=dict(kwargs or {}),
            model_id=model_id,
            max_attempts=max_attempts,
            request_id=request_id,
            concurrency=concurrency,
            run_at=_check_run_at(run_at, at) if run_at is not None else None,
            schedule_id=schedule_id,
            fire_time=fire_time,
            status=TaskStatus.WAITING if depends_on else TaskStatus.PENDING,
            workflow_id=workflow_id,
            workflow_key=workflow_key,
            depends_on=list(depends_on or []),
            unmet_dependencies=len(depends_on or []),
            trace_id=trace_id,
            retry_of=retry_of,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def queue(self) -> str:
        return self.priority.queue

    @property
    def can_retry(self) -> bool:
        return self.attempts < self.max_attempts

    @property
    def holds_slot(self) -> bool:
        """Whether the task occupies a slot of its concurrency key: from its release (or an
        admission with a slot free) until its last run ends. A retry keeps the slot, so a
        requeued run cannot be overtaken by a task of the same key."""
        return self.concurrency is not None and (
            self.status is TaskStatus.RUNNING
            or (self.status is TaskStatus.PENDING and self.held is None)
        )

    def hold(self, reason: HoldReason) -> None:
        """Keep a new, unpublished task in the database until it is released."""
        if self.status is not TaskStatus.PENDING or self.dispatched or self.attempts:
            raise ConflictError(
                "only a new task not yet published can be held back", task_id=str(self.id)
            )
        self.held = reason

    def release_held(self) -> None:
        """Let a held task go to the broker: it now takes its slot, and until published it
        is undispatched like any other, so the relay publishes it if the publish fails."""
        if self.status is not TaskStatus.PENDING or self.held is None:
            raise ConflictError("only a held pending task can be released", task_id=str(self.id))
        self.held = None
        self.dispatched = False

    def is_waiting(self, now: datetime) -> bool:
        """A delayed task not due yet: pending, unpublished, its run_at still ahead. The relay
        and the overdue sweep leave it alone; it is published once due."""
        return (
            self.status is TaskStatus.PENDING
            and not self.dispatched
            and self.run_at is not None
            and self.run_at > now
        )

    def mark_dispatched(self, *, due_at: datetime) -> None:
        """The broker accepted the task's message, which a worker may take from `due_at`;
        the relay can leave it alone."""
        self.dispatched = True
        self.due_at = due_at

    # --- client-side changes -------------------------------------------------------------

    def rerun(
        self, *, at: datetime, request_id: str | None = None, trace_id: str | None = None
    ) -> Task:
        """A new task doing this one's work again (same type, arguments, priority, owner and
        attempts), linked to it by `retry_of`; this task is left as it is. Only a task that
        failed or was cancelled is re-run: a completed one has its result, an active one may
        still get it."""
        if self.status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise ConflictError(
                f"only a failed or cancelled task can be re-run; it is {self.status.value}",
                task_id=str(self.id),
            )
        return Task.submit(
            name=self.name,
            task_type=self.task_type,
            user_id=self.user_id,
            at=at,
            priority=self.priority,
            args=self.args,
            kwargs=self.kwargs,
            model_id=self.model_id,
            max_attempts=self.max_attempts,
            request_id=request_id,
            trace_id=trace_id,
            retry_of=self.id,
        )

    def rename(self, name: str) -> None:
        self._require_pending("renamed")
        self.name = _validate_name(name)

    def change_priority(self, priority: Priority) -> None:
        self._require_pending("re-prioritised")
        self.priority = priority

    def move_run_at(self, run_at: datetime, *, at: datetime) -> None:
        """Delay the task to `run_at` (a time already past: run now). Only while it waits:
        once its message is out, the broker holds it and the time can no longer change."""
        self._require_pending("rescheduled")
        if self.dispatched:
            raise ConflictError(
                "task was already queued; its run_at can no longer change", task_id=str(self.id)
            )
        self.run_at = _check_run_at(run_at, at)

    def cancel(self, *, at: datetime, error: TaskError | None = None) -> None:
        """Cancel the task; `error` says why when the client did not ask for it (a task it
        depends on failed)."""
        self._move_to(TaskStatus.CANCELLED)
        self.held = None
        self.completed_at = at
        self.run_token = None
        if error is not None:
            self.error = error

    # --- a workflow's release ------------------------------------------------------------

    def dependencies_met(self, count: int = 1) -> bool:
        """`count` more of the tasks this one waits for ended as its workflow asks
        (completed; under `continue`, ended however). Once none is left it is released:
        returns whether it was."""
        if self.status is not TaskStatus.WAITING or not 0 < count <= self.unmet_dependencies:
            raise ConflictError(
                f"a {self.status.value} task waiting for {self.unmet_dependencies} tasks "
                f"cannot count {count} of them met",
                task_id=str(self.id),
            )
        self.unmet_dependencies -= count
        if self.unmet_dependencies == 0:
            self.release()
            return True
        return False

    def release(self) -> None:
        """Nothing it waits for is unmet any more (counted down here, or by its repository
        as its dependencies end): it becomes pending, undispatched, and is published like
        any new task (the relay's, if the publish fails)."""
        if self.unmet_dependencies:
            raise ConflictError(
                f"a task still waiting for {self.unmet_dependencies} tasks cannot be released",
                task_id=str(self.id),
            )
        self._move_to(TaskStatus.PENDING)
        self.dispatched = False

    # --- worker-side transitions ---------------------------------------------------------

    def start(self, *, run_token: RunToken, at: datetime, worker: WorkerId | None = None) -> None:
        """Claim the task for one run; every later write of that run must present the token."""
        self._move_to(TaskStatus.RUNNING)
        self.run_token = run_token
        self.worker = worker
        self.attempts += 1
        self.started_at = at
        self.heartbeat_at = at
        self.progress = Progress(0)
        self.progress_message = None
        # A worker only starts what the broker delivered, so the outbox entry is done.
        self.dispatched = True

    def report_progress(
        self, *, run_token: RunToken, percent: int, at: datetime, message: str | None = None
    ) -> None:
        self._require_run(run_token, "report progress")
        new = Progress(percent)
        if new.percent < self.progress.percent:
            raise ValidationError(
                f"progress cannot go backwards ({self.progress.percent} -> {new.percent})",
                field="progress",
            )
        self.progress = new
        if message is not None:
            self.progress_message = message
        self.heartbeat_at = at

    def ensure_current_run(self, run_token: RunToken) -> None:
        """Raise StaleRunError unless `run_token` names the run in progress."""
        self._require_run(run_token, "go on")

    def heartbeat(self, *, run_token: RunToken, at: datetime) -> None:
        self._require_run(run_token, "heartbeat")
        self.heartbeat_at = at

    def complete(
        self, *, run_token: RunToken, result: Any, at: datetime, message: str | None = None
    ) -> None:
        """Finish the run with its result, at 100 percent. `message` is the final progress
        message; without one the message is cleared, as an earlier stage's would be stale."""
        self._require_run(run_token, "complete")
        self._move_to(TaskStatus.COMPLETED)
        self.result = result
        self.error = None
        self.progress = Progress(100)
        self.progress_message = message
        self.completed_at = at
        self.run_token = None

    def fail(self, *, run_token: RunToken, error: TaskError, at: datetime) -> None:
        self._require_run(run_token, "fail")
        self._fail(error, at)

    def retry(self, *, run_token: RunToken, error: TaskError, at: datetime) -> None:
        """End this run without a result and wait for another delivery, if attempts remain.

        With no attempts left the task fails with `error` instead: a task that keeps
        crashing its worker must not loop forever.
        """
        self._require_run(run_token, "retry")
        self._retry_or_fail(error, at)

    # --- runs ended from outside, without the run's token ----------------------------------

    def abandon_run(self, *, error: TaskError, at: datetime) -> None:
        """The current run lost its worker (it stopped heart-beating): end it as a retry
        would, without the run's token, which only its worker holds. Back to pending while
        attempts remain, else failed with `error`. Only a running task has a run to abandon;
        the write is still a compare-and-set on the run, so a worker that wakes up and writes
        first wins."""
        self._require_running(TaskStatus.PENDING)
        self._retry_or_fail(error, at)

    def stop_overrun(self, *, error: TaskError, at: datetime) -> None:
        """The current run went past its hard time limit and its process was stopped: the
        task fails with `error`, without a retry (it would overrun again), and without the
        run's token, which died with the process. Only a running task can overrun."""
        self._require_running(TaskStatus.FAILED)
        self._fail(error, at)

    # --- rules ---------------------------------------------------------------------------

    def _move_to(self, target: TaskStatus) -> None:
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransitionError(
                "task", self.status.value, target.value, task_id=str(self.id)
            )
        self.status = target

    def _fail(self, error: TaskError, at: datetime) -> None:
        self._move_to(TaskStatus.FAILED)
        self.error = error
        self.completed_at = at
        self.run_token = None

    def _retry_or_fail(self, error: TaskError, at: datetime) -> None:
        if not self.can_retry:
            self._fail(error, at)
            return
        self._move_to(TaskStatus.PENDING)
        self.error = error
        self.run_token = None
        self.heartbeat_at = None
        self.dispatched = False

    def _require_running(self, target: TaskStatus) -> None:
        # Checked before the transition itself: a pending task may move to failed or
        # pending in no other way, yet it has no run to end.
        if self.status is not TaskStatus.RUNNING:
            raise InvalidTransitionError(
                "task", self.status.value, target.value, task_id=str(self.id)
            )

    def _require_pending(self, verb: str) -> None:
        if self.status is not TaskStatus.PENDING:
            raise ConflictError(
                f"task can only be {verb} while pending; it is {self.status.value}",
                task_id=str(self.id),
            )

    def _require_run(self, run_token: RunToken, verb: str) -> None:
        # A token names one run; once the task left that run (cancelled, re-queued, claimed
        # again) every write presenting it is refused, so a stale worker can never write.
        if self.status is not TaskStatus.RUNNING or run_token != self.run_token:
            raise StaleRunError(
                f"cannot {verb}: the run is not the task's current run (task is "
                f"{self.status.value})",
                task_id=str(self.id),
                status=self.status.value,
            )


@dataclass(frozen=True, slots=True)
class RunStart:
    """A run's start as one guarded write, for a repository that claims a task without
    reading it first (the claim is on every run's path): the statuses a task may start
    from, and what the start sets, as `Task.start` sets it on a loaded task (`on`). A
    repository's statement sets these values and one more attempt, where the status is one
    of `FROM`."""

    FROM: ClassVar[frozenset[TaskStatus]] = frozenset(
        status for status, targets in TRANSITIONS.items() if TaskStatus.RUNNING in targets
    )

    run_token: RunToken
    at: datetime
    worker: WorkerId | None = None

    def on(self, task: Task) -> None:
        task.start(run_token=self.run_token, at=self.at, worker=self.worker)


@dataclass(frozen=True, slots=True)
class RunCompletion:
    """A run's completion as one guarded write, for a repository that stores it without
    reading the task first: where the task is running under `run_token`, it is completed
    with `result`, as `Task.complete` does on a loaded task (`on`), whose refusal (the run
    is not the task's current one) a repository raises when its statement matched nothing."""

    run_token: RunToken
    result: Any
    at: datetime
    message: str | None = None

    def on(self, task: Task) -> None:
        task.complete(
            run_token=self.run_token, result=self.result, at=self.at, message=self.message
        )

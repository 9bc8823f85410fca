"""Submitting a workflow: its graph and every task checked, then stored in one transaction;
the tasks without dependencies are published, the others wait for their release."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

from application.argument_limits import ArgumentLimits
from application.idempotency import IdempotencyClaim, earlier_request, remember
from application.ports import Clock, SecretCipher, TaskTypeCatalog, UnitOfWork
from application.publishing import TaskPublisher
from application.quota import ensure_within_active_task_quota
from application.secret_values import NO_ENCRYPTION_KEY
from application.submission import SubmissionRules, TaskSubmission
from application.webhook_outbox import attach_callbacks
from application.workflows import WorkflowView, in_topological_order, view_of
from domain.errors import InvalidFieldsError, ValidationError
from domain.policy import ensure_active
from domain.task import Task, TaskId, TaskStatus
from domain.user import User
from domain.webhook import webhook_url
from domain.workflow import (
    DEFAULT_MAX_WORKFLOW_TASKS,
    Graph,
    Node,
    OnFailure,
    Workflow,
    WorkflowId,
)


@dataclass(frozen=True, slots=True)
class WorkflowTaskSubmission:
    """One task of a workflow as the client described it: its key, what it depends on."""

    key: str
    task: TaskSubmission
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkflowPlan:
    """What a submission would do, without doing it (a dry run)."""

    levels: list[list[str]]  # keys in topological levels: each level may run in parallel
    tasks: int
    active_tasks: int  # the owner's pending, running and waiting tasks now
    max_active_tasks: int

    @property
    def max_parallel(self) -> int:
        return max(len(level) for level in self.levels)

    @property
    def within_quota(self) -> bool:
        return self.active_tasks + self.tasks <= self.max_active_tasks


@dataclass(frozen=True, slots=True)
class SubmitWorkflow:
    """Rules: 1 to `max_tasks` tasks; every key unique and well-formed, every dependency
    another task's key, no cycle; every task obeys SubmitTask's rules. Everything is checked
    before anything is stored, and every problem is reported at once by position
    (`tasks[3].depends_on`, `tasks[0].kwargs.seconds`). The owner's quota must hold every
    task. The workflow and its tasks are committed in one transaction; the tasks without
    dependencies are published, the others wait (no broker message) until released.

    With an idempotency claim, a key already used for the same request returns the workflow
    that request created (`replayed`), and the key is stored in its transaction.

    Raises ValidationError (InvalidBatchError for invalid tasks), QuotaExceededError,
    PermissionDeniedError, IdempotencyKeyInUseError.
    """

    uow: UnitOfWork
    catalog: TaskTypeCatalog
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int
    max_tasks: int = DEFAULT_MAX_WORKFLOW_TASKS
    argument_limits: ArgumentLimits = field(default_factory=ArgumentLimits)
    cipher: SecretCipher = NO_ENCRYPTION_KEY

    def execute(
        self,
        actor: User,
        *,
        name: str,
        tasks: Sequence[WorkflowTaskSubmission],
        on_failure: OnFailure = OnFailure.CANCEL_DEPENDENTS,
        request_id: str | None = None,
    ) -> WorkflowView:
        view, _ = self.execute_once(
            actor, None, name=name, tasks=tasks, on_failure=on_failure, request_id=request_id
        )
        return view

    def execute_once(
        self,
        actor: User,
        claim: IdempotencyClaim | None,
        *,
        name: str,
        tasks: Sequence[WorkflowTaskSubmission],
        on_failure: OnFailure = OnFailure.CANCEL_DEPENDENTS,
        request_id: str | None = None,
        callback_url: str | None = None,
    ) -> tuple[WorkflowView, bool]:
        """The workflow, and whether it is the replay of an earlier request with the
        claim's key (then as it is now); see application/idempotency.py. With a
        `callback_url`, the workflow's end is delivered there (application/webhook_outbox.py)."""
        if callback_url is not None:
            webhook_url(callback_url, field="callback_url")
        workflow, new_tasks, _ = self._check(actor, name, tasks, on_failure, request_id)
        with self.uow:
            if (
                claim is not None
                and (earlier := earlier_request(self.uow, actor.id, claim)) is not None
            ):
                assert earlier.resource_id is not None  # a workflow's key names it
                created = self.uow.workflows.get(WorkflowId(UUID(earlier.resource_id)))
                return view_of(self.uow, created), True
            ensure_within_active_task_quota(
                self.uow, actor.id, self.max_active_tasks, adding=len(new_tasks)
            )
            self.uow.workflows.add(workflow)
            self.uow.tasks.add_many(new_tasks)
            attach_callbacks(
                self.uow, actor.id, [(workflow.id, callback_url)], field="callback_url"
            )
            if claim is not None:
                remember(
                    self.uow,
                    actor.id,
                    claim,
                    [],
                    at=workflow.created_at,
                    resource_id=str(workflow.id),
                )
            self.uow.commit()
        self.publisher.publish([t for t in new_tasks if t.status is TaskStatus.PENDING])
        view = WorkflowView(workflow, in_topological_order(new_tasks), _waiting(new_tasks))
        return view, False

    def plan(
        self,
        actor: User,
        *,
        name: str,
        tasks: Sequence[WorkflowTaskSubmission],
        on_failure: OnFailure = OnFailure.CANCEL_DEPENDENTS,
    ) -> WorkflowPlan:
        """Check the submission as `execute` would and say what it would run; store nothing."""
        _, new_tasks, graph = self._check(actor, name, tasks, on_failure, None)
        with self.uow:
            active = self.uow.tasks.count_active(actor.id)
        return WorkflowPlan(graph.levels(), len(new_tasks), active, self.max_active_tasks)

    def _check(
        self,
        actor: User,
        name: str,
        submissions: Sequence[WorkflowTaskSubmission],
        on_failure: OnFailure,
        request_id: str | None,
    ) -> tuple[Workflow, list[Task], Graph]:
        ensure_active(actor)
        now = self.clock.now()
        workflow = Workflow.submit(name=name, user_id=actor.id, at=now, on_failure=on_failure)
        errors: list[tuple[str, str]] = []
        graph: Graph | None = None
        try:
            graph = Graph(
                [Node(s.key, tuple(s.depends_on)) for s in submissions], max_tasks=self.max_tasks
            )
        except ValidationError as exc:
            if exc.field == "tasks":  # too many or none: nothing else is worth checking
                raise
            errors += exc.field_errors
        rules = SubmissionRules(self.catalog, self.argument_limits, self.cipher)
        new_tasks: list[Task] = []
        for n, submission in enumerate(submissions):
            try:
                task = rules.new_task(
                    submission.task, owner_id=actor.id, at=now, request_id=request_id
                )
            except ValidationError as exc:
                errors += [(f"tasks[{n}].{part}", message) for part, message in exc.field_errors]
                continue
            if submission.task.model_id is not None:
                errors.append((f"tasks[{n}].model_id", "a workflow's tasks name no model"))
                continue
            new_tasks.append(
                Task.submit(
                    name=task.name,
                    task_type=task.task_type,
                    user_id=actor.id,
                    at=now,
                    priority=task.priority,
                    args=task.args,
                    kwargs=task.kwargs,
                    max_attempts=task.max_attempts,
                    request_id=request_id,
                    workflow_id=workflow.id,
                    workflow_key=submission.key,
                    depends_on=list(dict.fromkeys(submission.depends_on)),
                )
            )
        if errors or graph is None:
            raise InvalidFieldsError(
                sorted(errors, key=_position), summary="invalid tasks in the workflow"
            )
        return workflow, new_tasks, graph


def _waiting(tasks: Sequence[Task]) -> dict[TaskId, list[str]]:
    return {t.id: list(t.depends_on) for t in tasks if t.status is TaskStatus.WAITING}


def _position(error: tuple[str, str]) -> tuple[int, str]:
    name = error[0]
    return int(name[len("tasks[") : name.index("]")]), name

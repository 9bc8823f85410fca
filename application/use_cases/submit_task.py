"""Submitting a task: validate it, store it, then hand it to the broker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from application.access import load_model
from application.argument_limits import ArgumentLimits
from application.authentication import lock_token_holder
from application.fair_share import FairShare
from application.flow_control import admit
from application.idempotency import IdempotencyClaim, remember, replay
from application.ports import Clock, SecretCipher, TaskTypeCatalog, TokenSubject, UnitOfWork
from application.publishing import TaskPublisher
from application.quota import ensure_within_active_task_quota
from application.secret_values import NO_ENCRYPTION_KEY
from application.submission import SubmissionRules, TaskSubmission, due_now
from application.task_events import record_status_events
from application.webhook_outbox import attach_callbacks
from domain.model import ModelId
from domain.policy import Action, ensure_active
from domain.task import Priority, Task
from domain.user import User


@dataclass(frozen=True, slots=True)
class SubmitTask:
    """Rules: the task type must exist and be one clients may submit (not an internal model
    task), and its arguments stay within `argument_limits` (size and nesting, checked before
    anything else reads them) and validate; a referenced model must be one the actor may read;
    an owner has at most `max_active_tasks` pending or running tasks. A task with a `run_at`
    still ahead (at most a year) is stored and not published: ReleaseDueTasks publishes it
    when due; one in the past runs now. A task whose concurrency key has no free slot is
    stored held back, and published when released; so is one of a rate-limited type, and,
    with `fair_share`, one whose queue is crowded (application/fair_share.py). The row is
    committed before publishing; if the broker is down the task stays undispatched for the
    relay and the submission still succeeds.

    With an idempotency claim, a key already used for the same request returns the task
    that request created (`replayed`), and the key is stored with the new task in its
    transaction; see application/idempotency.py. With a `callback_url`, the task's end is
    delivered there, signed with the owner's callback secret (which must exist).

    Raises ValidationError, NotFoundError (model), QuotaExceededError, PermissionDeniedError,
    IdempotencyKeyInUseError.
    """

    uow: UnitOfWork
    catalog: TaskTypeCatalog
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int
    argument_limits: ArgumentLimits = field(default_factory=ArgumentLimits)
    cipher: SecretCipher = NO_ENCRYPTION_KEY
    fair_share: FairShare | None = None

    def execute(
        self,
        actor: User,
        *,
        name: str,
        task_type: str,
        priority: Priority | None = None,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        model_id: ModelId | None = None,
        request_id: str | None = None,
        run_at: datetime | None = None,
        concurrency_key: str | None = None,
        trace_id: str | None = None,
        callback_url: str | None = None,
    ) -> Task:
        task, _ = self.execute_once(
            actor,
            None,
            name=name,
            task_type=task_type,
            priority=priority,
            args=args,
            kwargs=kwargs,
            model_id=model_id,
            request_id=request_id,
            run_at=run_at,
            concurrency_key=concurrency_key,
            trace_id=trace_id,
            callback_url=callback_url,
        )
        return task

    def execute_once(
        self,
        caller: User | TokenSubject,
        claim: IdempotencyClaim | None,
        *,
        name: str,
        task_type: str,
        priority: Priority | None = None,
        args: list[Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        model_id: ModelId | None = None,
        request_id: str | None = None,
        run_at: datetime | None = None,
        concurrency_key: str | None = None,
        trace_id: str | None = None,
        callback_url: str | None = None,
    ) -> tuple[Task, bool]:
        """The task, and whether it is the replay of an earlier request with the claim's key.
        `caller`: the user, or the subject of their bearer token, which is then checked in
        this transaction by the statement that holds the user for the quota (one
        transaction a submission instead of two; AuthenticationError as IdentifyUser's)."""
        submission = TaskSubmission(
            name, task_type, priority, args, kwargs, model_id, run_at, concurrency_key, callback_url
        )
        rules = SubmissionRules(self.catalog, self.argument_limits, self.cipher)
        with self.uow:
            if isinstance(caller, TokenSubject):
                actor = lock_token_holder(self.uow, caller)
            else:
                actor = caller
            ensure_active(actor)
            now = self.clock.now()
            task = rules.new_task(
                submission, owner_id=actor.id, at=now, request_id=request_id, trace_id=trace_id
            )
            if claim is not None and (earlier := replay(self.uow, actor.id, claim)) is not None:
                return earlier[0], True
            if model_id is not None:
                load_model(self.uow, actor, model_id, Action.READ)
            ensure_within_active_task_quota(self.uow, actor.id, self.max_active_tasks)
            admit(self.uow, [task])
            if self.fair_share is not None:
                self.fair_share.hold_back([task], now)
            self.uow.tasks.add(task)
            attach_callbacks(self.uow, actor.id, [(task.id, callback_url)], field="callback_url")
            record_status_events(self.uow, [task], at=task.created_at)
            if claim is not None:
                remember(self.uow, actor.id, claim, [task], at=task.created_at)
            self.uow.commit()
        self.publisher.publish(due_now([task], now))
        return task, False

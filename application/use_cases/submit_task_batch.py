"""Submitting many tasks at once: all of them or none, stored in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from application.access import load_model
from application.argument_limits import ArgumentLimits
from application.errors import InvalidBatchError
from application.fair_share import FairShare
from application.flow_control import admit
from application.idempotency import IdempotencyClaim, remember, replay
from application.ports import Clock, SecretCipher, TaskTypeCatalog, UnitOfWork
from application.publishing import TaskPublisher
from application.quota import ensure_within_active_task_quota
from application.secret_values import NO_ENCRYPTION_KEY
from application.submission import SubmissionRules, TaskSubmission, due_now
from application.task_events import record_status_events
from application.webhook_outbox import attach_callbacks
from domain.errors import NotFoundError, ValidationError
from domain.model import ModelId
from domain.policy import Action, ensure_active
from domain.task import Task
from domain.user import User

DEFAULT_MAX_BATCH_SIZE = 500


@dataclass(frozen=True, slots=True)
class SubmitTaskBatch:
    """Rules: 1 to `max_batch_size` tasks, each obeying SubmitTask's rules; every task is
    checked before anything is stored, and one invalid task refuses the whole batch, naming
    each invalid task's field by its position (`tasks[3].kwargs.seconds`). The owner's quota
    must hold the whole batch. The rows are committed in one transaction, then published
    together (delayed ones when due, held ones when released, as for one task); a broker
    outage leaves them all to the relay, as for one task.

    Raises ValidationError (InvalidBatchError for invalid tasks), QuotaExceededError,
    PermissionDeniedError.
    """

    uow: UnitOfWork
    catalog: TaskTypeCatalog
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    argument_limits: ArgumentLimits = field(default_factory=ArgumentLimits)
    cipher: SecretCipher = NO_ENCRYPTION_KEY
    fair_share: FairShare | None = None

    def execute(
        self,
        actor: User,
        submissions: Sequence[TaskSubmission],
        *,
        request_id: str | None = None,
        trace_id: str | None = None,
    ) -> list[Task]:
        tasks, _ = self.execute_once(
            actor, None, submissions, request_id=request_id, trace_id=trace_id
        )
        return tasks

    def execute_once(
        self,
        actor: User,
        claim: IdempotencyClaim | None,
        submissions: Sequence[TaskSubmission],
        *,
        request_id: str | None = None,
        trace_id: str | None = None,
    ) -> tuple[list[Task], bool]:
        """The tasks, and whether they replay an earlier request with the claim's key."""
        ensure_active(actor)
        if not 1 <= len(submissions) <= self.max_batch_size:
            raise ValidationError(
                f"a batch holds 1 to {self.max_batch_size} tasks, not {len(submissions)}",
                field="tasks",
                limit=self.max_batch_size,
            )
        now = self.clock.now()
        tasks, errors = self._new_tasks(actor, submissions, request_id, now, trace_id)
        with self.uow:
            if claim is not None and (earlier := replay(self.uow, actor.id, claim)) is not None:
                return earlier, True
            errors += self._unreadable_models(actor, submissions)
            if errors:
                raise InvalidBatchError(sorted(errors, key=_position))
            ensure_within_active_task_quota(
                self.uow, actor.id, self.max_active_tasks, adding=len(tasks)
            )
            admit(self.uow, tasks)
            if self.fair_share is not None:
                self.fair_share.hold_back(tasks, now)
            self.uow.tasks.add_many(tasks)
            attach_callbacks(
                self.uow,
                actor.id,
                [(t.id, s.callback_url) for t, s in zip(tasks, submissions, strict=True)],
                field=f"tasks[{_first_callback(submissions)}].callback_url",
            )
            if tasks:
                record_status_events(self.uow, tasks, at=tasks[0].created_at)
            if claim is not None:
                remember(self.uow, actor.id, claim, tasks, at=self.clock.now())
            self.uow.commit()
        self.publisher.publish(due_now(tasks, now))
        return tasks, False

    def _new_tasks(
        self,
        actor: User,
        submissions: Sequence[TaskSubmission],
        request_id: str | None,
        now: datetime,
        trace_id: str | None,
    ) -> tuple[list[Task], list[tuple[str, str]]]:
        rules = SubmissionRules(self.catalog, self.argument_limits, self.cipher)
        tasks: list[Task] = []
        errors: list[tuple[str, str]] = []
        for n, submission in enumerate(submissions):
            try:
                tasks.append(
                    rules.new_task(
                        submission,
                        owner_id=actor.id,
                        at=now,
                        request_id=request_id,
                        trace_id=trace_id,
                    )
                )
            except ValidationError as exc:
                errors += [(f"tasks[{n}].{name}", message) for name, message in exc.field_errors]
        return tasks, errors

    def _unreadable_models(
        self, actor: User, submissions: Sequence[TaskSubmission]
    ) -> list[tuple[str, str]]:
        """A model a task names must be one the actor may read, as for one task."""
        errors: list[tuple[str, str]] = []
        checked: dict[ModelId, str | None] = {}
        for n, submission in enumerate(submissions):
            model_id = submission.model_id
            if model_id is None:
                continue
            if model_id not in checked:
                checked[model_id] = _unreadable(self.uow, actor, model_id)
            if (problem := checked[model_id]) is not None:
                errors.append((f"tasks[{n}].model_id", problem))
        return errors


def _unreadable(uow: UnitOfWork, actor: User, model_id: ModelId) -> str | None:
    try:
        load_model(uow, actor, model_id, Action.READ)
    except NotFoundError as exc:
        return exc.detail
    return None


def _position(error: tuple[str, str]) -> int:
    return int(error[0][len("tasks[") : error[0].index("]")])


def _first_callback(submissions: Sequence[TaskSubmission]) -> int:
    return next((n for n, s in enumerate(submissions) if s.callback_url is not None), 0)

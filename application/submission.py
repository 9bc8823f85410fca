"""What a client asks for when submitting a task, and the checks that need no database:
shared by SubmitTask and SubmitTaskBatch, so one task and a batch of them obey the same rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from application.argument_limits import ArgumentLimits
from application.ports import SecretCipher, TaskTypeCatalog
from application.secret_values import NO_ENCRYPTION_KEY, SecretSealing
from domain.errors import ValidationError
from domain.flow import HoldReason
from domain.model import ModelId
from domain.task import Priority, Task
from domain.user import UserId
from domain.webhook import webhook_url


@dataclass(frozen=True, slots=True)
class TaskSubmission:
    """One task as the client described it, not yet checked."""

    name: str
    task_type: str
    priority: Priority | None = None
    args: list[Any] | None = None
    kwargs: dict[str, Any] | None = None
    model_id: ModelId | None = None
    run_at: datetime | None = None  # a delayed task: published only once due
    # Only for task types whose concurrency rule takes one (domain/flow.py).
    concurrency_key: str | None = None
    callback_url: str | None = None  # told of the task's end (application/webhook_outbox.py)


@dataclass(frozen=True, slots=True)
class SubmissionRules:
    """The catalog the task type must be in, the caps on its arguments, and the cipher that
    seals the fields its type marks secret before anything stores them."""

    catalog: TaskTypeCatalog
    argument_limits: ArgumentLimits
    cipher: SecretCipher = NO_ENCRYPTION_KEY

    def new_task(
        self,
        submission: TaskSubmission,
        *,
        owner_id: UserId,
        at: datetime,
        request_id: str | None,
        schedule_id: UUID | None = None,
        fire_time: datetime | None = None,
        trace_id: str | None = None,
    ) -> Task:
        """The pending task `submission` describes. The task type must exist and be one
        clients may submit (not an internal model task); its arguments stay within the
        limits (checked before anything else reads them) and validate against the type.
        A task of a rate-limited type is held back (not one with a concurrency key, whose
        release decides, nor a delayed one, published when due).

        Raises ValidationError naming the offending field (`task_type`, `kwargs.seconds`,
        `callback_url`).
        """
        if submission.callback_url is not None:
            webhook_url(submission.callback_url, field="callback_url")
        task_type = submission.task_type
        spec = self.catalog.get(task_type)
        if spec.internal:
            raise ValidationError(
                f"{task_type} tasks are created by taskhub itself and cannot be submitted",
                field="task_type",
            )
        args, kwargs = submission.args or [], submission.kwargs or {}
        self.argument_limits.check(args=args, kwargs=kwargs)
        args, kwargs = self.catalog.validate_arguments(task_type, args, kwargs)
        concurrency = None
        if spec.concurrency is not None:
            concurrency = spec.concurrency.concurrency(kwargs, submission.concurrency_key)
        elif submission.concurrency_key is not None:
            raise ValidationError(
                f"{task_type} tasks do not take a concurrency_key", field="concurrency_key"
            )
        kwargs = SecretSealing(self.cipher).seal_arguments(spec, kwargs)
        task = Task.submit(
            name=submission.name,
            task_type=task_type,
            user_id=owner_id,
            at=at,
            priority=submission.priority or spec.default_priority,
            args=args,
            kwargs=kwargs,
            model_id=submission.model_id,
            max_attempts=spec.max_attempts,
            request_id=request_id,
            run_at=submission.run_at,
            schedule_id=schedule_id,
            fire_time=fire_time,
            concurrency=concurrency,
            trace_id=trace_id,
        )
        if spec.rate_limit is not None and concurrency is None and submission.run_at is None:
            # Released by ReleaseHeldTasks as the type's token bucket allows.
            task.hold(HoldReason.RATE_LIMIT)
        return task


def due_now(tasks: list[Task], now: datetime) -> list[Task]:
    """The tasks to publish at once: all but the delayed ones still waiting for their run_at,
    which ReleaseDueTasks publishes when due."""
    return [task for task in tasks if not task.is_waiting(now)]

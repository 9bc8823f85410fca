"""Small factories with keyword defaults, for building test data in one line."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from adapters.in_memory.dispatcher import RecordingTaskDispatcher
from application.ports import Clock, UnitOfWork
from application.publishing import RecordDispatchedNow, TaskPublisher
from application.running.outcomes import Execution, TaskRun
from application.running.record_outcome import RecordOutcome
from domain.model import Model, ModelType
from domain.task import Priority, RunToken, Task
from domain.user import Email, User, UserId

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def make_user(*, email: str | None = None, is_admin: bool = False, is_active: bool = True) -> User:
    return User(
        id=UserId(uuid4()),
        email=Email(email or f"user-{uuid4().hex[:8]}@example.com"),
        hashed_password="rev$drowssap-terces",
        created_at=T0,
        is_admin=is_admin,
        is_active=is_active,
    )


def make_task(
    *,
    user: User | None = None,
    name: str = "nightly report",
    task_type: str = "sleep",
    priority: Priority = Priority.NORMAL,
    at: datetime = T0,
    max_attempts: int = 3,
    kwargs: dict[str, Any] | None = None,
) -> Task:
    return Task.submit(
        name=name,
        task_type=task_type,
        user_id=(user or make_user()).id,
        at=at,
        priority=priority,
        kwargs=kwargs,
        max_attempts=max_attempts,
    )


def make_running_task(*, token: str = "run-1", **kwargs: Any) -> Task:  # noqa: S107
    task = make_task(**kwargs)
    task.start(run_token=RunToken(token), at=T0)
    return task


def make_model(
    *, user: User | None = None, name: str = "churn", model_type: ModelType = ModelType.ONNX
) -> Model:
    return Model.register(
        name=name,
        model_type=model_type,
        artifact_location="/models/churn.onnx",
        user_id=(user or make_user()).id,
        at=T0,
    )


def record_outcome(uow: UnitOfWork, clock: Clock, run: TaskRun, outcome: Execution) -> Task:
    """What a run's end does, through RecordOutcome, with a broker that takes every retry."""
    publisher = TaskPublisher(
        dispatcher=RecordingTaskDispatcher(), recorder=RecordDispatchedNow(uow), clock=clock
    )
    return RecordOutcome(uow=uow, publisher=publisher, clock=clock).execute(run, outcome)

"""Entity <-> row translation: the only place that knows both the domain and the tables.

`*_values` give an entity's column values, copied: repositories keep one as the snapshot
they compare with to write only what changed, and it must not change with the entity. A
row's JSON values are decoded afresh for each read, so an entity built from one shares
them with nothing and takes them as they are (deep copies here were a fifth of mapping a
row, profiled).
"""

from __future__ import annotations

import copy
from typing import Any

from sqlalchemy import Row

from domain.attempt import Attempt, AttemptOutcome, LogLevel, TaskLogLine
from domain.flow import Concurrency, HoldReason
from domain.model import Model, ModelId, ModelStatus, ModelType
from domain.schedule import (
    CatchUp,
    Cron,
    Fire,
    FireOutcome,
    Interval,
    Overlap,
    Schedule,
    ScheduleId,
    TaskTemplate,
    Trigger,
)
from domain.task import (
    Priority,
    Progress,
    RunToken,
    Task,
    TaskError,
    TaskId,
    TaskStatus,
    WorkerId,
)
from domain.user import Email, User, UserId
from domain.workflow import OnFailure, Workflow, WorkflowId, WorkflowStatus


def task_values(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "task_type": task.task_type,
        "status": task.status.value,
        "priority": task.priority.value,
        "args": copy.deepcopy(task.args),
        "kwargs": copy.deepcopy(task.kwargs),
        "result": copy.deepcopy(task.result),
        "error_type": task.error.type if task.error else None,
        "error_message": task.error.message if task.error else None,
        "progress": task.progress.percent,
        "progress_message": task.progress_message,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "completed_at": task.completed_at,
        "heartbeat_at": task.heartbeat_at,
        "user_id": task.user_id,
        "model_id": task.model_id,
        "attempts": task.attempts,
        "max_attempts": task.max_attempts,
        "run_token": task.run_token,
        "dispatched": task.dispatched,
        "due_at": task.due_at,
        "request_id": task.request_id,
        "concurrency_key": task.concurrency.key if task.concurrency else None,
        "concurrency_limit": task.concurrency.limit if task.concurrency else None,
        "held": task.held.value if task.held else None,
        "run_at": task.run_at,
        "schedule_id": task.schedule_id,
        "fire_time": task.fire_time,
        "workflow_id": task.workflow_id,
        "workflow_key": task.workflow_key,
        "depends_on": list(task.depends_on) if task.workflow_id is not None else None,
        "unmet_dependencies": task.unmet_dependencies,
        "error_traceback": task.error.traceback if task.error else None,
        "trace_id": task.trace_id,
        "retry_of": task.retry_of,
        "worker_host": task.worker.host if task.worker else None,
        "worker_pid": task.worker.pid if task.worker else None,
    }


def task_from_row(row: Row[Any]) -> Task:
    error = None
    if row.error_type is not None:
        error = TaskError(
            type=row.error_type, message=row.error_message or "", traceback=row.error_traceback
        )
    return Task(
        id=TaskId(row.id),
        name=row.name,
        task_type=row.task_type,
        user_id=UserId(row.user_id),
        created_at=row.created_at,
        priority=Priority(row.priority),
        args=row.args,
        kwargs=row.kwargs,
        model_id=ModelId(row.model_id) if row.model_id is not None else None,
        status=TaskStatus(row.status),
        progress=Progress(row.progress),
        progress_message=row.progress_message,
        result=row.result,
        error=error,
        started_at=row.started_at,
        completed_at=row.completed_at,
        heartbeat_at=row.heartbeat_at,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        run_token=RunToken(row.run_token) if row.run_token is not None else None,
        dispatched=row.dispatched,
        due_at=row.due_at,
        request_id=row.request_id,
        concurrency=Concurrency(row.concurrency_key, row.concurrency_limit or 1)
        if row.concurrency_key is not None
        else None,
        held=HoldReason(row.held) if row.held is not None else None,
        run_at=row.run_at,
        schedule_id=row.schedule_id,
        fire_time=row.fire_time,
        workflow_id=WorkflowId(row.workflow_id) if row.workflow_id is not None else None,
        workflow_key=row.workflow_key,
        depends_on=list(row.depends_on or []),
        unmet_dependencies=row.unmet_dependencies,
        trace_id=row.trace_id,
        retry_of=TaskId(row.retry_of) if row.retry_of is not None else None,
        worker=worker_from(row.worker_host, row.worker_pid),
    )


def schedule_values(schedule: Schedule) -> dict[str, Any]:
    template = schedule.template
    trigger = schedule.trigger
    return {
        "id": schedule.id,
        "name": schedule.name,
        "user_id": schedule.user_id,
        "template": {
            "name": template.name,
            "task_type": template.task_type,
            "priority": template.priority.value if template.priority else None,
            "args": copy.deepcopy(template.args),
            "kwargs": copy.deepcopy(template.kwargs),
        },
        "cron": trigger.expression if isinstance(trigger, Cron) else None,
        "timezone": trigger.timezone if isinstance(trigger, Cron) else None,
        "interval_seconds": trigger.seconds if isinstance(trigger, Interval) else None,
        "anchor": schedule.anchor,
        "start_at": schedule.start_at,
        "end_at": schedule.end_at,
        "max_runs": schedule.max_runs,
        "overlap": schedule.overlap.value,
        "catch_up": schedule.catch_up.value,
        "paused": schedule.paused,
        "runs": schedule.runs,
        "next_fire_at": schedule.next_fire_at,
        "fence": schedule.fence,
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
    }


def schedule_from_row(row: Row[Any]) -> Schedule:
    template = row.template
    trigger: Trigger
    if row.cron is not None:
        trigger = Cron(row.cron, row.timezone or "UTC")
    else:
        trigger = Interval(int(row.interval_seconds or 0))
    return Schedule(
        id=ScheduleId(row.id),
        name=row.name,
        user_id=UserId(row.user_id),
        template=TaskTemplate(
            name=template["name"],
            task_type=template["task_type"],
            priority=Priority(template["priority"]) if template.get("priority") else None,
            args=copy.deepcopy(template.get("args") or []),
            kwargs=copy.deepcopy(template.get("kwargs") or {}),
        ),
        trigger=trigger,
        anchor=row.anchor,
        created_at=row.created_at,
        start_at=row.start_at,
        end_at=row.end_at,
        max_runs=row.max_runs,
        overlap=Overlap(row.overlap),
        catch_up=CatchUp(row.catch_up),
        paused=row.paused,
        runs=row.runs,
        next_fire_at=row.next_fire_at,
        fence=row.fence,
        updated_at=row.updated_at,
    )


def fire_values(fire: Fire) -> dict[str, Any]:
    return {
        "schedule_id": fire.schedule_id,
        "fire_time": fire.fire_time,
        "outcome": fire.outcome.value,
        "task_id": fire.task_id,
        "reason": fire.reason,
        "fence": fire.fence,
        "recorded_at": fire.recorded_at,
    }


def fire_from_row(row: Row[Any]) -> Fire:
    return Fire(
        schedule_id=ScheduleId(row.schedule_id),
        fire_time=row.fire_time,
        outcome=FireOutcome(row.outcome),
        recorded_at=row.recorded_at,
        task_id=TaskId(row.task_id) if row.task_id is not None else None,
        reason=row.reason,
        fence=row.fence,
    )


def worker_from(host: str | None, pid: int | None) -> WorkerId | None:
    return WorkerId(host, pid) if host is not None and pid is not None else None


def attempt_values(attempt: Attempt) -> dict[str, Any]:
    error = attempt.error
    return {
        "task_id": attempt.task_id,
        "number": attempt.number,
        "worker_host": attempt.worker.host if attempt.worker else None,
        "worker_pid": attempt.worker.pid if attempt.worker else None,
        "started_at": attempt.started_at,
        "ended_at": attempt.ended_at,
        "outcome": attempt.outcome.value,
        "error_type": error.type if error else None,
        "error_message": error.message if error else None,
        "error_traceback": error.traceback if error else None,
    }


def attempt_from_row(row: Row[Any]) -> Attempt:
    error = None
    if row.error_type is not None:
        error = TaskError(row.error_type, row.error_message or "", row.error_traceback)
    return Attempt(
        task_id=TaskId(row.task_id),
        number=row.number,
        worker=worker_from(row.worker_host, row.worker_pid),
        started_at=row.started_at,
        ended_at=row.ended_at,
        outcome=AttemptOutcome(row.outcome),
        error=error,
    )


def log_line_from_row(row: Row[Any]) -> TaskLogLine:
    return TaskLogLine(
        task_id=TaskId(row.task_id),
        attempt=row.attempt,
        level=LogLevel(row.level),
        message=row.message,
        logged_at=row.logged_at,
        seq=row.seq,
    )


def user_values(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email.value,
        "hashed_password": user.hashed_password,
        "is_active": user.is_active,
        "is_admin": user.is_admin,
        "created_at": user.created_at,
        "token_version": user.token_version,
        "share_weight": user.share_weight,
    }


def user_from_row(row: Row[Any]) -> User:
    return User(
        id=UserId(row.id),
        email=Email.stored(row.email),
        hashed_password=row.hashed_password,
        created_at=row.created_at,
        is_active=row.is_active,
        is_admin=row.is_admin,
        token_version=row.token_version,
        share_weight=row.share_weight,
    )


def model_values(model: Model) -> dict[str, Any]:
    return {
        "id": model.id,
        "name": model.name,
        "description": model.description,
        "model_type": model.model_type.value,
        "status": model.status.value,
        "artifact_location": model.artifact_location,
        "artifact_size": model.artifact_size,
        "artifact_sha256": model.artifact_sha256,
        "deployed_location": model.deployed_location,
        "status_reason": model.status_reason,
        "user_id": model.user_id,
        "created_at": model.created_at,
        "updated_at": model.updated_at,
    }


def model_from_row(row: Row[Any]) -> Model:
    return Model(
        id=ModelId(row.id),
        name=row.name,
        description=row.description,
        model_type=ModelType(row.model_type),
        status=ModelStatus(row.status),
        artifact_location=row.artifact_location,
        artifact_size=row.artifact_size,
        artifact_sha256=row.artifact_sha256,
        deployed_location=row.deployed_location,
        status_reason=row.status_reason,
        user_id=UserId(row.user_id),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def workflow_values(workflow: Workflow) -> dict[str, Any]:
    return {
        "id": workflow.id,
        "name": workflow.name,
        "status": workflow.status.value,
        "on_failure": workflow.on_failure.value,
        "user_id": workflow.user_id,
        "created_at": workflow.created_at,
        "completed_at": workflow.completed_at,
    }


def workflow_from_row(row: Row[Any]) -> Workflow:
    return Workflow(
        id=WorkflowId(row.id),
        name=row.name,
        user_id=UserId(row.user_id),
        created_at=row.created_at,
        on_failure=OnFailure(row.on_failure),
        status=WorkflowStatus(row.status),
        completed_at=row.completed_at,
    )

"""Schedule request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from application.use_cases.get_schedule import ScheduleView
from application.use_cases.update_schedule import ScheduleChanges
from domain.schedule import (
    CatchUp,
    Cron,
    Fire,
    FireOutcome,
    Interval,
    Overlap,
    Schedule,
    TaskTemplate,
    Trigger,
)
from domain.task import Priority, Task, TaskStatus
from entrypoints.http.schemas.common import PlainText, StrictRequest


class TaskTemplateRequest(StrictRequest):
    name: PlainText = Field(min_length=1, max_length=200)
    task_type: PlainText = Field(min_length=1, max_length=100, examples=["noop"])
    priority: Priority | None = None
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    def template(self) -> TaskTemplate:
        return TaskTemplate(self.name, self.task_type, self.priority, self.args, self.kwargs)


class _Timing(StrictRequest):
    cron: PlainText | None = Field(None, max_length=200, examples=["*/15 * * * *"])
    timezone: PlainText | None = Field(
        None, max_length=100, description="IANA name for cron (default UTC).", examples=["UTC"]
    )
    interval_seconds: int | None = Field(None, ge=1)
    start_at: AwareDatetime | None = None
    end_at: AwareDatetime | None = None
    max_runs: int | None = Field(None, ge=1)
    overlap: Overlap | None = None
    catch_up: CatchUp | None = None

    def trigger(self) -> Trigger | None:
        if self.cron is not None:
            return Cron(self.cron, self.timezone or "UTC")
        if self.interval_seconds is not None:
            return Interval(self.interval_seconds)
        return None

    @model_validator(mode="after")
    def _one_trigger(self) -> _Timing:
        if self.cron is not None and self.interval_seconds is not None:
            raise ValueError("give cron or interval_seconds, not both")
        if self.timezone is not None and self.cron is None:
            raise ValueError("timezone applies to cron only")
        return self


class CreateScheduleRequest(_Timing):
    name: PlainText = Field(min_length=1, max_length=200)
    task: TaskTemplateRequest

    @model_validator(mode="after")
    def _needs_trigger(self) -> CreateScheduleRequest:
        if self.cron is None and self.interval_seconds is None:
            raise ValueError("give cron or interval_seconds")
        return self


class UpdateScheduleRequest(_Timing):
    name: PlainText | None = Field(None, min_length=1, max_length=200)
    task: TaskTemplateRequest | None = None

    def changes(self) -> ScheduleChanges:
        return ScheduleChanges(
            name=self.name,
            template=self.task.template() if self.task else None,
            trigger=self.trigger(),
            start_at=self.start_at,
            end_at=self.end_at,
            max_runs=self.max_runs,
            overlap=self.overlap,
            catch_up=self.catch_up,
        )


class TaskTemplateResponse(BaseModel):
    name: str
    task_type: str
    priority: Priority | None = None
    args: list[Any]
    kwargs: dict[str, Any]


class ScheduleRunResponse(BaseModel):
    task_id: UUID
    status: TaskStatus
    fire_time: datetime | None = None

    @classmethod
    def of(cls, task: Task) -> ScheduleRunResponse:
        return cls(task_id=task.id, status=task.status, fire_time=task.fire_time)


class ScheduleResponse(BaseModel):
    id: UUID
    name: str
    user_id: UUID
    task: TaskTemplateResponse
    cron: str | None = None
    timezone: str | None = None
    interval_seconds: int | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs: int | None = None
    overlap: Overlap
    catch_up: CatchUp
    paused: bool
    runs: int = Field(description="Runs fired so far.")
    next_fire_at: datetime | None = Field(None, description="None once the schedule ended.")
    created_at: datetime
    updated_at: datetime | None = None
    next_fire_times: list[datetime] | None = Field(
        None, description="GET /schedules/{id} only: the next five fire times."
    )
    last_runs: list[ScheduleRunResponse] | None = Field(
        None, description="GET /schedules/{id} only: the latest runs, newest first."
    )

    @classmethod
    def of(cls, schedule: Schedule) -> ScheduleResponse:
        trigger = schedule.trigger
        template = schedule.template
        return cls(
            id=schedule.id,
            name=schedule.name,
            user_id=schedule.user_id,
            task=TaskTemplateResponse(
                name=template.name,
                task_type=template.task_type,
                priority=template.priority,
                args=template.args,
                kwargs=template.kwargs,
            ),
            cron=trigger.expression if isinstance(trigger, Cron) else None,
            timezone=trigger.timezone if isinstance(trigger, Cron) else None,
            interval_seconds=trigger.seconds if isinstance(trigger, Interval) else None,
            start_at=schedule.start_at,
            end_at=schedule.end_at,
            max_runs=schedule.max_runs,
            overlap=schedule.overlap,
            catch_up=schedule.catch_up,
            paused=schedule.paused,
            runs=schedule.runs,
            next_fire_at=schedule.next_fire_at,
            created_at=schedule.created_at,
            updated_at=schedule.updated_at,
        )

    @classmethod
    def of_view(cls, view: ScheduleView) -> ScheduleResponse:
        response = cls.of(view.schedule)
        response.next_fire_times = view.next_fire_times
        response.last_runs = [ScheduleRunResponse.of(task) for task in view.latest_runs]
        return response


class SchedulePage(BaseModel):
    items: list[ScheduleResponse]
    next_cursor: str | None = None


class FireResponse(BaseModel):
    fire_time: datetime
    outcome: FireOutcome
    task_id: UUID | None = None
    reason: str | None = Field(
        None, description="skipped: the rule (overlap=skip); missed: the catch-up rule."
    )
    recorded_at: datetime

    @classmethod
    def of(cls, fire: Fire) -> FireResponse:
        return cls(
            fire_time=fire.fire_time,
            outcome=fire.outcome,
            task_id=fire.task_id,
            reason=fire.reason,
            recorded_at=fire.recorded_at,
        )


class FirePage(BaseModel):
    items: list[FireResponse]
    next_cursor: str | None = None

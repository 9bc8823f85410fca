"""Creating a recurring schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports import Clock, UnitOfWork
from application.scheduling import ScheduleRules
from domain.errors import QuotaExceededError, ValidationError
from domain.policy import ensure_active
from domain.schedule import CatchUp, Overlap, Schedule, TaskTemplate, Trigger
from domain.user import User


@dataclass(frozen=True, slots=True)
class CreateSchedule:
    """Rules: the task template is checked like a submission (422 naming `task.<field>`),
    the cron expression and time zone must be readable, an interval at least the minimum
    for non-admins; `end_at` after `start_at`; at most `max_schedules` per owner. The first
    fire time is computed now (an interval: one interval on, or `start_at`).

    Raises ValidationError, QuotaExceededError, PermissionDeniedError.
    """

    uow: UnitOfWork
    rules: ScheduleRules
    clock: Clock
    max_schedules: int

    def execute(
        self,
        actor: User,
        *,
        name: str,
        template: TaskTemplate,
        trigger: Trigger,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        max_runs: int | None = None,
        overlap: Overlap = Overlap.SKIP,
        catch_up: CatchUp = CatchUp.NONE,
    ) -> Schedule:
        ensure_active(actor)
        now = self.clock.now()
        self.rules.check(actor, template, trigger, at=now)
        schedule = Schedule.create(
            name=name,
            user_id=actor.id,
            template=template,
            trigger=trigger,
            at=now,
            start_at=start_at,
            end_at=end_at,
            max_runs=max_runs,
            overlap=overlap,
            catch_up=catch_up,
        )
        schedule.next_fire_at = self.rules.first_fire(schedule, now)
        if schedule.next_fire_at is None:
            raise ValidationError("the schedule would never fire", field="end_at")
        with self.uow:
            self.uow.users.lock(actor.id)
            owned = self.uow.schedules.count_of_owner(actor.id)
            if owned >= self.max_schedules:
                raise QuotaExceededError(
                    f"you have {owned} schedules; the limit is {self.max_schedules}",
                    quota="schedules",
                    limit=self.max_schedules,
                )
            self.uow.schedules.add(schedule)
            self.uow.commit()
        return schedule

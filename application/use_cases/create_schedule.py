"""Creating a recurring schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.idempotency import IdempotencyClaim, earlier_request, remember
from application.ports import Clock, UnitOfWork
from application.scheduling import ScheduleRules
from domain.errors import QuotaExceededError, ValidationError
from domain.policy import ensure_active
from domain.schedule import CatchUp, Overlap, Schedule, ScheduleId, TaskTemplate, Trigger
from domain.user import User


@dataclass(frozen=True, slots=True)
class CreateSchedule:
    """Rules: the task template is checked like a submission (422 naming `task.<field>`),
    the cron expression and time zone must be readable, an interval at least the minimum
    for non-admins; `end_at` after `start_at`; at most `max_schedules` per owner. The first
    fire time is computed now (an interval: one interval on, or `start_at`).

    With an idempotency claim, a key already used for the same request returns the schedule
    that request created (`replayed`), and the key is stored in its transaction.

    Raises ValidationError, QuotaExceededError, PermissionDeniedError,
    IdempotencyKeyInUseError.
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
        schedule, _ = self.execute_once(
            actor,
            None,
            name=name,
            template=template,
            trigger=trigger,
            start_at=start_at,
            end_at=end_at,
            max_runs=max_runs,
            overlap=overlap,
            catch_up=catch_up,
        )
        return schedule

    def execute_once(
        self,
        actor: User,
        claim: IdempotencyClaim | None,
        *,
        name: str,
        template: TaskTemplate,
        trigger: Trigger,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        max_runs: int | None = None,
        overlap: Overlap = Overlap.SKIP,
        catch_up: CatchUp = CatchUp.NONE,
    ) -> tuple[Schedule, bool]:
        """The schedule, and whether it is the replay of an earlier request with the
        claim's key (then as it is now); see application/idempotency.py."""
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
            if (
                claim is not None
                and (earlier := earlier_request(self.uow, actor.id, claim)) is not None
            ):
                assert earlier.resource_id is not None  # a schedule's key names it
                return self.uow.schedules.get(ScheduleId(UUID(earlier.resource_id))), True
            self.uow.users.lock(actor.id)
            owned = self.uow.schedules.count_of_owner(actor.id)
            if owned >= self.max_schedules:
                raise QuotaExceededError(
                    f"you have {owned} schedules; the limit is {self.max_schedules}",
                    quota="schedules",
                    limit=self.max_schedules,
                )
            self.uow.schedules.add(schedule)
            if claim is not None:
                remember(self.uow, actor.id, claim, [], at=now, resource_id=str(schedule.id))
            self.uow.commit()
        return schedule, False

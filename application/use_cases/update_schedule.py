"""Changing a schedule: its name, task, timing, window or rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports import Clock, UnitOfWork
from application.scheduling import ScheduleRules, again_if_fired_meanwhile, load_schedule
from domain.errors import ValidationError
from domain.policy import Action
from domain.schedule import CatchUp, Overlap, Schedule, ScheduleId, TaskTemplate, Trigger
from domain.user import User


@dataclass(frozen=True, slots=True)
class ScheduleChanges:
    """What to change; None leaves a field as it is."""

    name: str | None = None
    template: TaskTemplate | None = None
    trigger: Trigger | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs: int | None = None
    overlap: Overlap | None = None
    catch_up: CatchUp | None = None


@dataclass(frozen=True, slots=True)
class UpdateSchedule:
    """Rules: as for creating one. A new trigger or window counts fire times afresh from now
    (an interval from its start, or now); the ledger keeps what was recorded.

    A fire between the read and the write is outlasted (again_if_fired_meanwhile).
    Raises NotFoundError, ValidationError.
    """

    uow: UnitOfWork
    rules: ScheduleRules
    clock: Clock

    def execute(self, actor: User, schedule_id: ScheduleId, changes: ScheduleChanges) -> Schedule:
        return again_if_fired_meanwhile(lambda: self._update(actor, schedule_id, changes))

    def _update(self, actor: User, schedule_id: ScheduleId, changes: ScheduleChanges) -> Schedule:
        now = self.clock.now()
        with self.uow:
            schedule = load_schedule(self.uow, actor, schedule_id, Action.CHANGE)
            owner = self.uow.users.get(schedule.user_id)
            template = changes.template or schedule.template
            trigger = changes.trigger or schedule.trigger
            self.rules.check(owner if not actor.is_admin else actor, template, trigger, at=now)
            if changes.name is not None:
                schedule.rename(changes.name)
            schedule.template = template
            if changes.overlap is not None:
                schedule.overlap = changes.overlap
            if changes.catch_up is not None:
                schedule.catch_up = changes.catch_up
            retimed = any(
                value is not None
                for value in (changes.trigger, changes.start_at, changes.end_at, changes.max_runs)
            )
            if retimed:
                schedule.trigger = trigger
                schedule.set_window(
                    start_at=changes.start_at or schedule.start_at,
                    end_at=changes.end_at or schedule.end_at,
                    max_runs=changes.max_runs or schedule.max_runs,
                )
                schedule.anchor = schedule.start_at or now
                schedule.next_fire_at = self.rules.first_fire(schedule, now)
                if schedule.next_fire_at is None:
                    raise ValidationError("the schedule would never fire again", field="end_at")
            schedule.updated_at = now
            self.uow.schedules.update(schedule)
            self.uow.commit()
        return schedule

"""Pausing and resuming a schedule."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.scheduling import ScheduleRules, load_schedule
from domain.policy import Action
from domain.schedule import Schedule, ScheduleId
from domain.user import User


@dataclass(frozen=True, slots=True)
class PauseSchedule:
    """A paused schedule does not fire; pausing twice is harmless. Raises NotFoundError,
    ConcurrencyConflictError (fired meanwhile: try again)."""

    uow: UnitOfWork
    clock: Clock

    def execute(self, actor: User, schedule_id: ScheduleId) -> Schedule:
        with self.uow:
            schedule = load_schedule(self.uow, actor, schedule_id, Action.CHANGE)
            if not schedule.paused:
                schedule.pause(at=self.clock.now())
                self.uow.schedules.update(schedule)
                self.uow.commit()
        return schedule


@dataclass(frozen=True, slots=True)
class ResumeSchedule:
    """A resumed schedule fires from its next fire time after now: the ones that passed
    while paused were not wanted, so none is owed or recorded. Resuming a running schedule
    is harmless. Raises NotFoundError, ConcurrencyConflictError."""

    uow: UnitOfWork
    rules: ScheduleRules
    clock: Clock

    def execute(self, actor: User, schedule_id: ScheduleId) -> Schedule:
        now = self.clock.now()
        with self.uow:
            schedule = load_schedule(self.uow, actor, schedule_id, Action.CHANGE)
            if schedule.paused:
                next_fire_at = schedule.next_fire_at
                if next_fire_at is not None and next_fire_at <= now:
                    next_fire_at = self.rules.next_fire_after(schedule, now)
                schedule.resume(next_fire_at=next_fire_at, at=now)
                self.uow.schedules.update(schedule)
                self.uow.commit()
        return schedule

"""Pausing and resuming a schedule."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.scheduling import ScheduleRules, again_if_fired_meanwhile, load_schedule
from domain.policy import Action
from domain.schedule import Schedule, ScheduleId
from domain.user import User


@dataclass(frozen=True, slots=True)
class PauseSchedule:
    """A paused schedule does not fire; pausing twice is harmless. A fire between the read
    and the write is outlasted (again_if_fired_meanwhile). Raises NotFoundError."""

    uow: UnitOfWork
    clock: Clock

    def execute(self, actor: User, schedule_id: ScheduleId) -> Schedule:
        return again_if_fired_meanwhile(lambda: self._pause(actor, schedule_id))

    def _pause(self, actor: User, schedule_id: ScheduleId) -> Schedule:
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
    is harmless. A fire between the read and the write is outlasted. Raises NotFoundError."""

    uow: UnitOfWork
    rules: ScheduleRules
    clock: Clock

    def execute(self, actor: User, schedule_id: ScheduleId) -> Schedule:
        return again_if_fired_meanwhile(lambda: self._resume(actor, schedule_id))

    def _resume(self, actor: User, schedule_id: ScheduleId) -> Schedule:
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

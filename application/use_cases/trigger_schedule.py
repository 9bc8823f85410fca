"""Running a schedule's task once, now, by hand."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, UnitOfWork
from application.publishing import TaskPublisher
from application.scheduling import (
    Fired,
    ScheduleRules,
    again_if_fired_meanwhile,
    fire_in_transaction,
    load_schedule,
)
from domain.errors import ConflictError
from domain.policy import Action
from domain.schedule import Fire, ScheduleId
from domain.user import User


@dataclass(frozen=True, slots=True)
class TriggerSchedule:
    """One run now, recorded in the ledger at the current time with reason `manual`; the
    overlap rule does not apply and the regular fire times are unchanged (it counts towards
    `max_runs`). A fire that could not create its run (quota, a task type gone) is 409.

    Raises NotFoundError, ConflictError.
    """

    uow: UnitOfWork
    rules: ScheduleRules
    publisher: TaskPublisher
    clock: Clock
    max_active_tasks: int

    def execute(self, actor: User, schedule_id: ScheduleId) -> Fire:
        fired = again_if_fired_meanwhile(lambda: self._trigger(actor, schedule_id))
        self.publisher.publish([fired.task] if fired.task is not None else [])
        return fired.fire

    def _trigger(self, actor: User, schedule_id: ScheduleId) -> Fired:
        now = self.clock.now()
        with self.uow:
            schedule = load_schedule(self.uow, actor, schedule_id, Action.CHANGE)
            fired = fire_in_transaction(
                self.uow,
                schedule,
                now,
                rules=self.rules,
                max_active_tasks=self.max_active_tasks,
                now=now,
                fence=schedule.fence,
                manual=True,
            )
            if fired.task is None:
                raise ConflictError(
                    f"the schedule's task could not be created ({fired.fire.reason})",
                    schedule_id=str(schedule.id),
                )
            schedule.advance(fired=1, next_fire_at=schedule.next_fire_at, fence=schedule.fence)
            self.uow.schedules.update(schedule)
            self.uow.commit()
        return fired

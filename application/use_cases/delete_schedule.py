"""Deleting a schedule."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from application.scheduling import load_schedule
from domain.policy import Action
from domain.schedule import ScheduleId
from domain.user import User


@dataclass(frozen=True, slots=True)
class DeleteSchedule:
    """Removes the schedule and its ledger; runs it created stay, as ordinary tasks.
    Raises NotFoundError."""

    uow: UnitOfWork

    def execute(self, actor: User, schedule_id: ScheduleId) -> None:
        with self.uow:
            schedule = load_schedule(self.uow, actor, schedule_id, Action.DELETE)
            self.uow.schedules.delete(schedule)
            self.uow.commit()

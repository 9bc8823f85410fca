"""Reading one schedule, with its coming fire times and latest runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from application.ports import TaskQuery, UnitOfWork
from application.scheduling import ScheduleRules, load_schedule
from domain.policy import Action
from domain.schedule import Schedule, ScheduleId
from domain.task import Task
from domain.user import User

COMING_FIRES = 5
LATEST_RUNS = 5


@dataclass(frozen=True, slots=True)
class ScheduleView:
    schedule: Schedule
    next_fire_times: list[datetime]
    latest_runs: list[Task]


@dataclass(frozen=True, slots=True)
class GetSchedule:
    """The schedule, its next five fire times (none while paused or ended), and its latest
    runs, newest first. Raises NotFoundError, for someone else's schedule too."""

    uow: UnitOfWork
    rules: ScheduleRules

    def execute(self, actor: User, schedule_id: ScheduleId) -> ScheduleView:
        with self.uow:
            schedule = load_schedule(self.uow, actor, schedule_id, Action.READ)
            runs = self.uow.tasks.find(TaskQuery(schedule_id=schedule.id, limit=LATEST_RUNS))
        return ScheduleView(schedule, self.coming_fires(schedule), runs)

    def coming_fires(self, schedule: Schedule) -> list[datetime]:
        if schedule.paused:
            return []
        times: list[datetime] = []
        fire_time = schedule.next_fire_at
        while fire_time is not None and len(times) < COMING_FIRES:
            times.append(fire_time)
            fire_time = self.rules.next_fire_after(schedule, fire_time)
        return times

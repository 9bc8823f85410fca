"""The scheduler's tick: every due fire time of every schedule recorded once in the ledger."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from application.errors import DependencyUnavailableError, FencedOffError
from application.ports import Clock, TaskDispatcher, UnitOfWork
from application.publishing import TaskPublisher
from application.scheduling import Fired, ScheduleRules, fire_in_transaction
from domain.errors import AlreadyExistsError, ConcurrencyConflictError, NotFoundError
from domain.schedule import CatchUp, Fire, FireOutcome, Schedule, ScheduleId
from domain.task import Task

logger = logging.getLogger(__name__)

# Fire times one tick records per schedule at most: a long outage of a schedule firing every
# second is worked off over a few ticks instead of in one huge transaction.
MAX_FIRES_PER_TICK = 1000


@dataclass(frozen=True, slots=True)
class FireDueSchedules:
    """Rules: for each unpaused schedule whose next fire time has come, every fire time up
    to now is recorded once in the ledger, in one transaction with the schedule's new next
    fire time. A fire time less than `misfire_grace` old fires (late, after a failover);
    older ones passed while nothing could fire them: recorded `missed`, except that with
    catch-up `latest` the latest of them fires, unless a fire time on time follows. A fire
    is decided by the overlap rule (see fire_in_transaction).

    Exactly once: the ledger row is an INSERT keyed by (schedule, fire time), so a second
    scheduler's copy of the same fire is refused by the database whatever the timing; and
    the schedule row carries the highest lease generation (`fence`) that wrote it, so a
    scheduler whose lease was taken over (paused, partitioned) cannot write once a newer
    holder has. Each schedule is its own transaction: one that fails leaves the others be.

    Returns how many runs were created.
    """

    uow: UnitOfWork
    rules: ScheduleRules
    publisher: TaskPublisher
    dispatcher: TaskDispatcher
    clock: Clock
    misfire_grace: timedelta
    max_active_tasks: int
    batch_size: int

    def execute(self, fence: int) -> int:
        now = self.clock.now()
        with self.uow:
            due = [s.id for s in self.uow.schedules.list_due(now=now, limit=self.batch_size)]
        created = 0
        for schedule_id in due:
            try:
                created += self._fire(schedule_id, now, fence)
            except (AlreadyExistsError, ConcurrencyConflictError, NotFoundError) as exc:
                # Another scheduler, or the API (paused, deleted), got there first.
                logger.info("schedule %s left as it is: %s", schedule_id, exc)
        return created

    def _fire(self, schedule_id: ScheduleId, now: datetime, fence: int) -> int:
        with self.uow:
            schedule = self.uow.schedules.get(schedule_id)
            if fence < schedule.fence:
                raise FencedOffError(
                    f"lease generation {fence} is older than {schedule.fence}, which wrote "
                    f"schedule {schedule_id}",
                    schedule_id=str(schedule_id),
                )
            if schedule.paused or schedule.next_fire_at is None or schedule.next_fire_at > now:
                return 0
            results = self._decide(schedule, now, fence)
            after = results[-1].fire.fire_time if results else None
            schedule.advance(
                fired=sum(1 for r in results if r.task is not None),
                next_fire_at=self.rules.next_fire_after(schedule, after) if after else None,
                fence=fence,
            )
            self.uow.schedules.update(schedule)
            self.uow.commit()
        tasks = [r.task for r in results if r.task is not None]
        self.publisher.publish([t for t in tasks if t is not None])
        for result in results:
            self._revoke(result.cancelled)
        return len(tasks)

    def _decide(self, schedule: Schedule, now: datetime, fence: int) -> list[Fired]:
        times = list(self.rules.due_times(schedule, now, limit=MAX_FIRES_PER_TICK))
        late = [t for t in times if now - t > self.misfire_grace]
        catch_up_latest = schedule.catch_up is CatchUp.LATEST and late and len(late) == len(times)
        results: list[Fired] = []
        runs = 0
        for fire_time in times:
            if fire_time in late and not (catch_up_latest and fire_time == late[-1]):
                missed = Fire(
                    schedule_id=schedule.id,
                    fire_time=fire_time,
                    outcome=FireOutcome.MISSED,
                    recorded_at=now,
                    reason=f"catch_up={schedule.catch_up.value}",
                    fence=fence,
                )
                self.uow.schedule_fires.add_many([missed])
                results.append(Fired(missed))
                continue
            if schedule.max_runs is not None and schedule.runs + runs >= schedule.max_runs:
                break
            fired = fire_in_transaction(
                self.uow,
                schedule,
                fire_time,
                rules=self.rules,
                max_active_tasks=self.max_active_tasks,
                now=now,
                fence=fence,
            )
            runs += fired.task is not None
            results.append(fired)
        return results

    def _revoke(self, tasks: list[Task]) -> None:
        for task in tasks:
            try:
                self.dispatcher.revoke(task.id)
            except DependencyUnavailableError as exc:
                logger.warning("could not broadcast revoke of %s: %s", task.id, exc)

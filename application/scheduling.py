"""Rules shared by the schedule use cases: loading a schedule for a user, checking what a
client asks for, computing fire times, and firing one fire time into the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from application.access import load_owned
from application.argument_limits import ArgumentLimits
from application.cancellation import cancel_in_transaction
from application.conflicts import tried_afresh_on_conflict
from application.errors import FencedOffError
from application.ports import CronCalendar, TaskTypeCatalog, UnitOfWork
from application.quota import ensure_within_active_task_quota
from application.submission import SubmissionRules, TaskSubmission
from domain.errors import (
    ConcurrencyConflictError,
    InvalidFieldsError,
    QuotaExceededError,
    ValidationError,
)
from domain.policy import Action
from domain.schedule import (
    Cron,
    Fire,
    FireOutcome,
    Interval,
    Overlap,
    Schedule,
    ScheduleId,
    TaskTemplate,
    Trigger,
    interval_fire_after,
)
from domain.task import Task, TaskStatus
from domain.user import User

# A manual trigger's ledger reason; overlap rules do not apply to a run asked for by hand.
MANUAL = "manual"
T = TypeVar("T")


def again_if_fired_meanwhile(change: Callable[[], T]) -> T:
    """Make `change` (one transaction that reads the schedule and writes it back), trying it
    afresh when the scheduler wrote the schedule in between (under the lease it read, or a
    newer one: FencedOffError is about the fence the change read, not about the client): a
    client asks to change the schedule as it is, and a fire it did not see is no reason to
    refuse. A schedule firing every second is written about once a second, so the third
    conflict in a row is raised (409)."""
    return tried_afresh_on_conflict(change, conflicts=(ConcurrencyConflictError, FencedOffError))


def load_schedule(
    uow: UnitOfWork, actor: User, schedule_id: ScheduleId, action: Action
) -> Schedule:
    """The schedule, if `actor` may perform `action` on it; NotFoundError otherwise."""
    return load_owned(
        actor, action, "schedule", schedule_id, lambda: uow.schedules.get(schedule_id)
    )


@dataclass(frozen=True, slots=True)
class ScheduleRules:
    """What a schedule must satisfy, and when it fires."""

    catalog: TaskTypeCatalog
    calendar: CronCalendar
    min_interval_seconds: int = 60
    argument_limits: ArgumentLimits = field(default_factory=ArgumentLimits)

    @property
    def submission_rules(self) -> SubmissionRules:
        return SubmissionRules(self.catalog, self.argument_limits)

    def check(self, actor: User, template: TaskTemplate, trigger: Trigger, *, at: datetime) -> None:
        """Raise ValidationError naming the field: the template as a submission would be
        (`task.kwargs.seconds`), the cron expression, or an interval shorter than a
        non-admin may use."""
        try:
            self.new_task(template, actor, at=at)
        except ValidationError as exc:
            raise InvalidFieldsError(
                [(f"task.{name}", message) for name, message in exc.field_errors]
            ) from None
        self.check_trigger(actor, trigger)

    def check_trigger(self, actor: User, trigger: Trigger) -> None:
        if isinstance(trigger, Cron):
            self.calendar.check(trigger)
        elif not actor.is_admin and trigger.seconds < self.min_interval_seconds:
            raise ValidationError(
                f"interval_seconds must be at least {self.min_interval_seconds}",
                field="interval_seconds",
                limit=self.min_interval_seconds,
            )

    def new_task(
        self,
        template: TaskTemplate,
        owner: User,
        *,
        at: datetime,
        schedule_id: ScheduleId | None = None,
        fire_time: datetime | None = None,
    ) -> Task:
        if self.catalog.get(template.task_type).secret_fields:
            # A schedule keeps its template to validate again at each fire: it would keep
            # the secret in clear.
            raise ValidationError(
                f"{template.task_type} takes secret arguments, which a schedule cannot keep; "
                "submit its tasks one by one",
                field="task_type",
            )
        submission = TaskSubmission(
            name=template.name,
            task_type=template.task_type,
            priority=template.priority,
            args=template.args,
            kwargs=template.kwargs,
        )
        return self.submission_rules.new_task(
            submission,
            owner_id=owner.id,
            at=at,
            request_id=None,
            schedule_id=schedule_id,
            fire_time=fire_time,
        )

    def next_fire_after(self, schedule: Schedule, after: datetime) -> datetime | None:
        """The schedule's first fire time strictly after `after` within its window, or None
        when there is none (past `end_at`, or `max_runs` reached)."""
        if schedule.max_runs is not None and schedule.runs >= schedule.max_runs:
            return None
        trigger = schedule.trigger
        if schedule.start_at is not None and after < schedule.start_at:
            # The start itself may be a fire time: look from just before it.
            after = min(after, schedule.start_at - _TICK)
        if isinstance(trigger, Interval):
            fire_time = interval_fire_after(schedule.anchor, trigger.seconds, after)
        else:
            fire_time = self.calendar.next_after(trigger, after)
        if schedule.end_at is not None and fire_time > schedule.end_at:
            return None
        return fire_time

    def first_fire(self, schedule: Schedule, now: datetime) -> datetime | None:
        """The first fire time from `now` on: an interval schedule fires one interval after
        it was created (or at its start), a cron schedule at its next match."""
        if isinstance(schedule.trigger, Interval) and schedule.start_at is None:
            return self.next_fire_after(schedule, now)
        return self.next_fire_after(schedule, now - _TICK)

    def due_times(self, schedule: Schedule, now: datetime, *, limit: int) -> Iterator[datetime]:
        """The fire times from `schedule.next_fire_at` up to `now`, at most `limit`."""
        fire_time = schedule.next_fire_at
        count = 0
        while fire_time is not None and fire_time <= now and count < limit:
            yield fire_time
            count += 1
            fire_time = self.next_fire_after(schedule, fire_time)


_TICK = timedelta(microseconds=1)


@dataclass(slots=True)
class Fired:
    """What firing recorded: the ledger row, the run it created, the runs it cancelled."""

    fire: Fire
    task: Task | None = None
    cancelled: list[Task] = field(default_factory=list)


def fire_in_transaction(
    uow: UnitOfWork,
    schedule: Schedule,
    fire_time: datetime,
    *,
    rules: ScheduleRules,
    max_active_tasks: int,
    now: datetime,
    fence: int,
    manual: bool = False,
) -> Fired:
    """Decide one fire time inside an open unit of work: a run of the template (as an
    ordinary task of the owner, with `schedule_id` and `fire_time`), or a skip naming the
    rule that refused it. The overlap rule looks at the schedule's unfinished runs; a
    manual trigger ignores it. Stages the ledger row; the caller commits."""

    def ledger(outcome: FireOutcome, reason: str | None, task: Task | None = None) -> Fire:
        return Fire(
            schedule_id=schedule.id,
            fire_time=fire_time,
            outcome=outcome,
            recorded_at=now,
            task_id=task.id if task else None,
            reason=reason,
            fence=fence,
        )

    owner = uow.users.get(schedule.user_id)
    if not owner.is_active:
        return _staged(uow, Fired(ledger(FireOutcome.SKIPPED, "owner_inactive")))
    cancelled: list[Task] = []
    if not manual:
        unfinished = uow.tasks.list_unfinished_of_schedule(schedule.id)
        overlap = schedule.overlap
        waiting = [t for t in unfinished if t.status is TaskStatus.PENDING]
        if (overlap is Overlap.SKIP and unfinished) or (overlap is Overlap.BUFFER_ONE and waiting):
            return _staged(uow, Fired(ledger(FireOutcome.SKIPPED, f"overlap={overlap.value}")))
        if overlap is Overlap.CANCEL_PREVIOUS:
            for task in unfinished:
                cancel_in_transaction(uow, task, at=now)
                cancelled.append(task)
    try:
        task = rules.new_task(
            schedule.template, owner, at=now, schedule_id=schedule.id, fire_time=fire_time
        )
        ensure_within_active_task_quota(uow, owner.id, max_active_tasks)
    except ValidationError:
        # The task type went away or its arguments no longer validate since the schedule
        # was created: the schedule goes on, each fire says why it did not run.
        return _staged(uow, Fired(ledger(FireOutcome.SKIPPED, "invalid_task"), cancelled=cancelled))
    except QuotaExceededError:
        return _staged(uow, Fired(ledger(FireOutcome.SKIPPED, "quota"), cancelled=cancelled))
    uow.tasks.add(task)
    reason = MANUAL if manual else None
    return _staged(uow, Fired(ledger(FireOutcome.FIRED, reason, task), task, cancelled))


def _staged(uow: UnitOfWork, fired: Fired) -> Fired:
    uow.schedule_fires.add_many([fired.fire])
    return fired

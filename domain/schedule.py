"""The Schedule entity (a task template fired by a cron expression or an interval) and its
fire ledger entries: every fire time of a schedule is recorded once, fired, skipped or missed."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NewType
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import ValidationError
from domain.task import MAX_NAME_LENGTH, Priority, TaskId
from domain.text import check_plain_text
from domain.user import UserId

ScheduleId = NewType("ScheduleId", UUID)

MAX_CRON_LENGTH = 200


class Overlap(enum.StrEnum):
    """What a fire does while the schedule's previous run has not finished."""

    ALLOW = "allow"  # fire anyway
    SKIP = "skip"  # no new run while one is pending or running
    BUFFER_ONE = "buffer_one"  # at most one run waiting behind the running one
    CANCEL_PREVIOUS = "cancel_previous"  # cancel the unfinished runs, then fire


class CatchUp(enum.StrEnum):
    """What happens to fire times that passed while nothing could fire them."""

    NONE = "none"  # all recorded as missed
    LATEST = "latest"  # the latest one fires, the others are recorded as missed


class FireOutcome(enum.StrEnum):
    FIRED = "fired"
    SKIPPED = "skipped"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class TaskTemplate:
    """The task each fire submits, as a client would describe it."""

    name: str
    task_type: str
    priority: Priority | None = None
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Cron:
    """A cron expression read in an IANA time zone (so 02:30 stays 02:30 across DST)."""

    expression: str
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        check_plain_text(self.expression, field="cron")
        if not self.expression.strip() or len(self.expression) > MAX_CRON_LENGTH:
            raise ValidationError(f"cron must be 1 to {MAX_CRON_LENGTH} characters", field="cron")
        zone(self.timezone)


@dataclass(frozen=True, slots=True)
class Interval:
    """Every `seconds`, counted from the schedule's anchor (its start)."""

    seconds: int

    def __post_init__(self) -> None:
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, int) or self.seconds < 1:
            raise ValidationError(
                "interval_seconds must be a whole number of at least 1", field="interval_seconds"
            )


Trigger = Cron | Interval


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValidationError(field='timezone') for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Paris", field="timezone"
        ) from None


def _validate_name(name: str) -> str:
    stripped = check_plain_text(name, field="name").strip()
    if not stripped:
        raise ValidationError("name must not be blank", field="name")
    if len(stripped) > MAX_NAME_LENGTH:
        raise ValidationError(f"name must be at most {MAX_NAME_LENGTH} characters", field="name")
    return stripped


@dataclass(eq=False, kw_only=True)
class Schedule:
    """A recurring submission of `template`. `next_fire_at` is the earliest fire time not yet
    recorded in the ledger (None once the schedule has ended: past `end_at` or `max_runs`);
    `fence` is the highest scheduler lease generation that has written it, so a scheduler
    holding an older lease can no longer write it."""

    id: ScheduleId
    name: str
    user_id: UserId
    template: TaskTemplate
    trigger: Trigger
    anchor: datetime
    created_at: datetime
    start_at: datetime | None = None
    end_at: datetime | None = None
    max_runs: int | None = None
    overlap: Overlap = Overlap.SKIP
    catch_up: CatchUp = CatchUp.NONE
    paused: bool = False
    runs: int = 0
    next_fire_at: datetime | None = None
    fence: int = 0
    updated_at: datetime | None = None

    @classmethod
    def create(
        cls,
        *,
        name: str,
        user_id: UserId,
        template: TaskTemplate,
        trigger: Trigger,
        at: datetime,
        start_at: datetime | None = None,
        end_at: datetime | None = None,
        max_runs: int | None = None,
        overlap: Overlap = Overlap.SKIP,
        catch_up: CatchUp = CatchUp.NONE,
    ) -> Schedule:
        schedule = cls(
            id=ScheduleId(uuid4()),
            name=_validate_name(name),
            user_id=user_id,
            template=template,
            trigger=trigger,
            anchor=start_at or at,
            created_at=at,
            overlap=overlap,
            catch_up=catch_up,
        )
        schedule.set_window(start_at=start_at, end_at=end_at, max_runs=max_runs)
        return schedule

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schedule) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def ended(self) -> bool:
        return self.next_fire_at is None

    def rename(self, name: str) -> None:
        self.name = _validate_name(name)

    def set_window(
        self, *, start_at: datetime | None, end_at: datetime | None, max_runs: int | None
    ) -> None:
        if start_at is not None and end_at is not None and end_at <= start_at:
            raise ValidationError("end_at must be after start_at", field="end_at")
        if max_runs is not None and max_runs < 1:
            raise ValidationError("max_runs must be at least 1", field="max_runs")
        self.start_at, self.end_at, self.max_runs = start_at, end_at, max_runs

    def allows(self, fire_time: datetime) -> bool:
        """Whether `fire_time` lies within the schedule's window and run budget."""
        if self.start_at is not None and fire_time < self.start_at:
            return False
        if self.end_at is not None and fire_time > self.end_at:
            return False
        return self.max_runs is None or self.runs < self.max_runs

    def pause(self, *, at: datetime) -> None:
        self.paused = True
        self.updated_at = at

    def resume(self, *, next_fire_at: datetime | None, at: datetime) -> None:
        """Fire times that passed while paused were not wanted: none is owed."""
        self.paused = False
        self.next_fire_at = next_fire_at
        self.updated_at = at

    def advance(self, *, fired: int, next_fire_at: datetime | None, fence: int) -> None:
        """Fire times up to `next_fire_at` are in the ledger, `fired` of them as runs."""
        self.runs += fired
        budget_spent = self.max_runs is not None and self.runs >= self.max_runs
        self.next_fire_at = None if budget_spent else next_fire_at
        self.fence = max(self.fence, fence)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fire:
    """One row of a schedule's ledger: what became of one fire time. Unique per (schedule,
    fire time), whoever recorded it; `fence` is the recording scheduler's lease generation."""

    schedule_id: ScheduleId
    fire_time: datetime
    outcome: FireOutcome
    recorded_at: datetime
    task_id: TaskId | None = None
    reason: str | None = None
    fence: int = 0


def interval_fire_after(anchor: datetime, seconds: int, after: datetime) -> datetime:
    """The first of anchor, anchor + seconds, ... strictly after `after` (anchor itself when
    `after` is earlier)."""
    if after < anchor:
        return anchor
    step = timedelta(seconds=seconds)
    elapsed = (after - anchor) // step
    return anchor + (elapsed + 1) * step

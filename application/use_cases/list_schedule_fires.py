"""Paging through a schedule's fire ledger."""

from __future__ import annotations

from dataclasses import dataclass

from application.pagination import Page, check_limit, decode_cursor, encode_cursor
from application.ports import Cursor, UnitOfWork
from application.scheduling import load_schedule
from domain.policy import Action
from domain.schedule import Fire, ScheduleId
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListScheduleFires:
    """The ledger of one schedule, latest fire time first: every fire time once, fired
    (with its task), skipped (with the overlap rule) or missed (with the catch-up rule).
    Raises NotFoundError, ValidationError (limit, cursor)."""

    uow: UnitOfWork
    max_page_size: int
    default_page_size: int = 50

    def execute(
        self,
        actor: User,
        schedule_id: ScheduleId,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Fire]:
        limit = check_limit(limit, cap=self.max_page_size, default=self.default_page_size)
        before = decode_cursor(cursor).created_at if cursor else None
        with self.uow:
            load_schedule(self.uow, actor, schedule_id, Action.READ)
            rows = self.uow.schedule_fires.find(schedule_id, before=before, limit=limit + 1)
        items = rows[:limit]
        if len(rows) <= limit or not items:
            return Page(items=items, next_cursor=None)
        return Page(
            items=items,
            next_cursor=encode_cursor(Cursor(items[-1].fire_time, str(schedule_id))),
        )

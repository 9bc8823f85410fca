"""Listing schedules, newest first, one keyset page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports import ScheduleQuery, UnitOfWork
from domain.policy import visible_owner
from domain.schedule import Schedule
from domain.user import User, UserId


@dataclass(frozen=True, slots=True)
class ListSchedules:
    """Users see their own schedules, admins everyone's or one user's.
    Raises ValidationError (limit, cursor), PermissionDeniedError."""

    uow: UnitOfWork
    max_page_size: int
    default_page_size: int = 50

    def execute(
        self,
        actor: User,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        user_id: UserId | None = None,
    ) -> Page[Schedule]:
        owner = visible_owner(actor, asked_for=user_id)
        limit = check_limit(limit, cap=self.max_page_size, default=self.default_page_size)
        after = decode_cursor(cursor) if cursor else None
        with self.uow:
            rows = self.uow.schedules.find(
                ScheduleQuery(owner_id=owner, after=after, limit=limit + 1)
            )
        return page_of(rows, limit=limit)

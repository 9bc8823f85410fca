"""Listing users, for administrators."""

from __future__ import annotations

from dataclasses import dataclass

from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports import UnitOfWork
from domain.policy import ensure_admin
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListUsers:
    """Raises PermissionDeniedError (not an admin), ValidationError (limit, cursor)."""

    uow: UnitOfWork
    max_page_size: int
    default_page_size: int = 50

    def execute(
        self, actor: User, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[User]:
        ensure_admin(actor)
        limit = check_limit(limit, cap=self.max_page_size, default=self.default_page_size)
        after = decode_cursor(cursor) if cursor else None
        with self.uow:
            rows = self.uow.users.find(after=after, limit=limit + 1)
        return page_of(rows, limit=limit)

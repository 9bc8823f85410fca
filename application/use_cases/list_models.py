"""Listing models, newest first, one keyset page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports import ModelQuery, UnitOfWork
from domain.model import Model, ModelStatus
from domain.policy import visible_owner
from domain.user import User


@dataclass(frozen=True, slots=True)
class ListModels:
    """Rules: users see only their own models, admins everyone's; page size is capped.

    Raises ValidationError (limit, cursor), PermissionDeniedError (inactive actor).
    """

    uow: UnitOfWork
    max_page_size: int
    default_page_size: int = 50

    def execute(
        self,
        actor: User,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        status: ModelStatus | None = None,
    ) -> Page[Model]:
        limit = check_limit(limit, cap=self.max_page_size, default=self.default_page_size)
        query = ModelQuery(
            owner_id=visible_owner(actor),
            status=status,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
        with self.uow:
            rows = self.uow.models.find(query)
        return page_of(rows, limit=limit)

"""Listing workflows, newest first, one keyset page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from application.pagination import Page, check_limit, decode_cursor, page_of
from application.ports import UnitOfWork, WorkflowQuery
from application.workflows import WorkflowView, view_of
from domain.policy import visible_owner
from domain.user import User
from domain.workflow import WorkflowStatus


@dataclass(frozen=True, slots=True)
class ListWorkflows:
    """Rules: users see only their own workflows, admins everyone's; page size is capped.

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
        status: WorkflowStatus | None = None,
    ) -> Page[WorkflowView]:
        limit = check_limit(limit, cap=self.max_page_size, default=self.default_page_size)
        query = WorkflowQuery(
            owner_id=visible_owner(actor),
            status=status,
            after=decode_cursor(cursor) if cursor else None,
            limit=limit + 1,
        )
        with self.uow:
            page = page_of(self.uow.workflows.find(query), limit=limit)
            return Page([view_of(self.uow, w) for w in page.items], page.next_cursor)

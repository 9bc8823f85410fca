"""Whether a task's owner is an administrator, asked by a run only when its task type needs
to know (the files task types confine a user to their own folder)."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.errors import NotFoundError
from domain.user import UserId


@dataclass(frozen=True, slots=True)
class ReadOwnerRole:
    """Rules: an owner who cannot be found is not an administrator, so a run whose owner
    is gone is confined, never widened."""

    uow: UnitOfWork

    def execute(self, owner_id: UserId) -> bool:
        with self.uow:
            try:
                return self.uow.users.get(owner_id).is_admin
            except NotFoundError:
                return False

"""Logging out everywhere: every access token the user holds stops working at once."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.user import User


@dataclass(frozen=True, slots=True)
class EndSessions:
    """Rules: a user ends only their own sessions; all of them, this one included."""

    uow: UnitOfWork

    def execute(self, user: User) -> None:
        with self.uow:
            current = self.uow.users.get(user.id)
            current.end_sessions()
            self.uow.users.update(current)
            self.uow.commit()

"""Turning a bearer token into the active user it was issued to."""

from __future__ import annotations

from dataclasses import dataclass

from application.authentication import ensure_token_holds
from application.ports import TokenService, UnitOfWork
from domain.errors import AuthenticationError, NotFoundError
from domain.user import User


@dataclass(frozen=True, slots=True)
class IdentifyUser:
    """Raises AuthenticationError for a bad token, a deleted user or a deactivated one, and
    for a token of an older token version (the user's sessions were ended since)."""

    uow: UnitOfWork
    tokens: TokenService

    def execute(self, token: str, *, scope: str | None = None) -> User:
        """`scope`: what the caller is about to do, if a scoped token may do it."""
        subject = self.tokens.verify(token, scope=scope)
        with self.uow:
            try:
                user = self.uow.users.get(subject.user_id)
            except NotFoundError:
                raise AuthenticationError("the token's user no longer exists") from None
        return ensure_token_holds(subject, user)

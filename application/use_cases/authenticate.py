"""Logging in: email and password in, access token out."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import AccessToken, PasswordHasher, TokenService, UnitOfWork
from domain.errors import AuthenticationError, ValidationError
from domain.user import Email


@dataclass(frozen=True, slots=True)
class Authenticate:
    """Rules: unknown email, wrong password and inactive account all fail alike, and an
    unknown email costs the same password check as a known one, so neither the answer nor
    its timing tells which accounts exist.

    Raises AuthenticationError.
    """

    uow: UnitOfWork
    hasher: PasswordHasher
    tokens: TokenService

    def execute(self, *, email: str, password: str) -> AccessToken:
        try:
            address: Email | None = Email(email)
        except ValidationError:
            address = None
        with self.uow:
            user = self.uow.users.find_by_email(address) if address else None
        hashed = user.hashed_password if user is not None else None
        password_ok = self.hasher.verify(password, hashed)
        if user is None or not password_ok or not user.is_active:
            raise AuthenticationError("incorrect email or password")
        return self.tokens.issue(user.id)

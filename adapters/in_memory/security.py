"""Hashing and tokens for unit tests: cheap, deterministic, as strict as the real ones."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from application.ports import AccessToken, PasswordHasher, TokenService, TokenSubject
from domain.errors import AuthenticationError
from domain.user import MAX_PASSWORD_BYTES, UserId, check_new_password


class ReversedPasswordHasher(PasswordHasher):
    """Not a hash at all: the password reversed, so tests can see it was 'hashed'."""

    def __init__(self) -> None:
        self.dummy_checks = 0

    def hash(self, password: str) -> str:
        check_new_password(password)
        return "rev$" + password[::-1]

    def verify(self, password: str, hashed: str | None) -> bool:
        if hashed is None:
            self.dummy_checks += 1
            return False
        if len(password.encode()) > MAX_PASSWORD_BYTES:
            return False
        return secrets.compare_digest(hashed, "rev$" + password[::-1])


@dataclass
class InMemoryTokenService(TokenService):
    """Opaque random tokens remembered in a dict; `expire` makes one stale."""

    expires_in: int = 3600
    issued: dict[str, TokenSubject] = field(default_factory=dict)

    def issue(self, user_id: UserId, version: int) -> AccessToken:
        token = secrets.token_urlsafe(16)
        self.issued[token] = TokenSubject(user_id=user_id, version=version)
        return AccessToken(token=token, expires_in=self.expires_in)

    scopes: dict[str, str] = field(default_factory=dict)

    def issue_scoped(
        self, user_id: UserId, version: int, *, scope: str, lifetime_seconds: int
    ) -> AccessToken:
        token = self.issue(user_id, version).token
        self.scopes[token] = scope
        return AccessToken(token=token, expires_in=lifetime_seconds)

    def verify(self, token: str, *, scope: str | None = None) -> TokenSubject:
        if token not in self.issued:
            raise AuthenticationError("invalid or expired token")
        if token in self.scopes and self.scopes[token] != scope:
            raise AuthenticationError("this token is only good for reading event streams")
        return self.issued[token]

    def expire(self, token: str) -> None:
        self.issued.pop(token, None)

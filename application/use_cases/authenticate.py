"""Logging in: email and password in, access token out."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import AccessToken, LoginThrottle, PasswordHasher, TokenService, UnitOfWork
from domain.errors import AuthenticationError, ValidationError
from domain.user import Email


@dataclass(frozen=True, slots=True)
class Authenticate:
    """Rules: unknown email, wrong password and inactive account all fail alike, and an
    unknown email costs the same password check as a known one, so neither the answer nor
    its timing tells which accounts exist. Failures are throttled per account and client
    address together, and per client address, checked before the password is, so a guesser
    waiting out a back-off costs no bcrypt time. Never per account alone: then anyone could
    keep the owner out by failing on purpose; the owner's address has failed nothing, so the
    owner's correct password is let through. A success clears that account-and-address pair's
    failures, never the address's (logging in to one's own account must not buy more guesses
    at others).

    Raises AuthenticationError, TooManyAttemptsError.
    """

    uow: UnitOfWork
    hasher: PasswordHasher
    tokens: TokenService
    throttle: LoginThrottle

    def execute(self, *, email: str, password: str, client_ip: str | None = None) -> AccessToken:
        try:
            address: Email | None = Email(email)
        except ValidationError:
            address = None
        account = account_keys(address, client_ip)
        keys = [*account, *([f"ip:{client_ip}"] if client_ip else [])]
        self.throttle.check(keys)
        with self.uow:
            user = self.uow.users.find_by_email(address) if address else None
        hashed = user.hashed_password if user is not None else None
        password_ok = self.hasher.verify(password, hashed)
        if user is None or not password_ok or not user.is_active:
            self.throttle.record_failure(keys)
            raise AuthenticationError("incorrect email or password")
        self.throttle.reset(account)
        return self.tokens.issue(user.id, user.token_version)


def account_keys(address: Email | None, client_ip: str | None) -> list[str]:
    """The throttle key of attempts at one account from one address. No key for a malformed
    email: no account by that name exists to protect. Without a client address (a caller that
    is not a network peer, such as a Unix socket's) the account alone is the key."""
    if address is None:
        return []
    if client_ip is None:
        return [f"account:{address}"]
    return [f"account:{address} ip:{client_ip}"]

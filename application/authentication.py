"""Whether a bearer token still holds for the user it names: refused once the account is
deactivated or deleted, or its sessions ended (a password change, a logout everywhere)."""

from __future__ import annotations

from application.ports import TokenSubject, UnitOfWork
from domain.errors import AuthenticationError, NotFoundError
from domain.user import User


def ensure_token_holds(subject: TokenSubject, user: User) -> User:
    """`user`, read as the one `subject` names, if the token still holds for them; raises
    AuthenticationError otherwise."""
    if not user.is_active:
        raise AuthenticationError("this account is deactivated")
    if subject.version != user.token_version:
        raise AuthenticationError("this token has been revoked; log in again")
    return user


def lock_token_holder(uow: UnitOfWork, subject: TokenSubject) -> User:
    """The user `subject` names, held for the transaction (UserRepository.lock), if the
    token still holds for them: a use case that locks its caller anyway authenticates them
    with the same statement, in its own transaction, instead of in one of their own."""
    try:
        user = uow.users.lock(subject.user_id)
    except NotFoundError:
        raise AuthenticationError("the token's user no longer exists") from None
    return ensure_token_holds(subject, user)

"""Registering a user: self sign-up when allowed, otherwise by an administrator."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, PasswordHasher, UnitOfWork
from domain.errors import AlreadyExistsError, PermissionDeniedError
from domain.policy import ensure_admin
from domain.user import Email, User, check_new_password


@dataclass(frozen=True, slots=True)
class RegisterUser:
    """Rules: an anonymous caller may sign up only while sign-up is allowed; an admin may
    always create users, admins included; emails are unique (case-insensitive). The
    duplicate is looked up before the password is hashed, and a taken email costs the same
    hash as a free one.

    Raises ValidationError, PermissionDeniedError, AlreadyExistsError.
    """

    uow: UnitOfWork
    hasher: PasswordHasher
    clock: Clock
    allow_signup: bool

    def execute(
        self, *, email: str, password: str, actor: User | None = None, is_admin: bool = False
    ) -> User:
        if actor is not None:
            ensure_admin(actor)
        elif not self.allow_signup:
            raise PermissionDeniedError("sign-up is closed; ask an administrator for an account")
        elif is_admin:
            raise PermissionDeniedError("only an administrator can create an administrator")
        address = Email(email)
        check_new_password(password)
        with self.uow:
            taken = self.uow.users.find_by_email(address) is not None
        # Hashed even for a taken email and then thrown away: the answer takes as long
        # either way, so its timing does not tell which emails have accounts.
        hashed = self.hasher.hash(password)
        if taken:
            raise AlreadyExistsError(f"a user with email {address} already exists", field="email")
        with self.uow:
            # A registration racing this one may have taken the email since: add() refuses it.
            user = User.register(
                email=address, hashed_password=hashed, at=self.clock.now(), is_admin=is_admin
            )
            self.uow.users.add(user)
            self.uow.commit()
        return user

"""Creating or promoting an administrator from the operator's command line."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import Clock, PasswordHasher, UnitOfWork
from domain.user import Email, User, check_new_password


@dataclass(frozen=True, slots=True)
class CreateAdministrator:
    """The operator is trusted (they hold the database), so no actor is checked.
    An existing account with that email is promoted, re-activated and given the password.

    Raises ValidationError.
    """

    uow: UnitOfWork
    hasher: PasswordHasher
    clock: Clock

    def execute(self, *, email: str, password: str) -> User:
        address = Email(email)
        check_new_password(password)
        hashed = self.hasher.hash(password)
        with self.uow:
            user = self.uow.users.find_by_email(address)
            if user is None:
                user = User.register(
                    email=address, hashed_password=hashed, at=self.clock.now(), is_admin=True
                )
                self.uow.users.add(user)
            else:
                user.change_password(hashed)
                user.grant_admin()
                user.activate()
                self.uow.users.update(user)
            self.uow.commit()
        return user

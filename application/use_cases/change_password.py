"""A user changing their own password, which ends every session they have."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import PasswordHasher, UnitOfWork
from domain.errors import ValidationError
from domain.user import User, check_new_password


@dataclass(frozen=True, slots=True)
class ChangePassword:
    """Rules: the current password must be given (a stolen token alone cannot take the
    account over); the new one follows the rules of sign-up; every token issued before,
    this request's included, stops working.

    Raises ValidationError (field current_password or new_password).
    """

    uow: UnitOfWork
    hasher: PasswordHasher

    def execute(self, user: User, *, current_password: str, new_password: str) -> None:
        try:
            check_new_password(new_password)
        except ValidationError as error:
            raise ValidationError(error.detail, field="new_password") from None
        with self.uow:
            current = self.uow.users.get(user.id)
        if not self.hasher.verify(current_password, current.hashed_password):
            raise ValidationError("current password is incorrect", field="current_password")
        hashed = self.hasher.hash(new_password)
        with self.uow:
            current = self.uow.users.get(user.id)
            current.change_password(hashed)
            self.uow.users.update(current)
            self.uow.commit()

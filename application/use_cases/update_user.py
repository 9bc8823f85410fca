"""An administrator (de)activating an account, granting and revoking admin rights, or
setting its weight under fair sharing."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.errors import ConflictError, NotFoundError
from domain.policy import ensure_admin
from domain.user import User, UserId


@dataclass(frozen=True, slots=True)
class UpdateUser:
    """Rules: admins only; an admin cannot deactivate or demote themselves, so the service
    is never left without a way back in by accident. A share weight is 1 to 100.

    Raises PermissionDeniedError, NotFoundError, ConflictError, ValidationError.
    """

    uow: UnitOfWork

    def execute(
        self,
        actor: User,
        user_id: UserId,
        *,
        is_active: bool | None = None,
        is_admin: bool | None = None,
        share_weight: int | None = None,
    ) -> User:
        ensure_admin(actor)
        if user_id == actor.id and (is_active is False or is_admin is False):
            raise ConflictError("administrators cannot deactivate or demote themselves")
        with self.uow:
            try:
                user = self.uow.users.get(user_id)
            except NotFoundError:
                raise NotFoundError(f"user {user_id} not found", user_id=str(user_id)) from None
            if is_active is not None:
                user.activate() if is_active else user.deactivate()
            if is_admin is not None:
                user.grant_admin() if is_admin else user.revoke_admin()
            if share_weight is not None:
                user.set_share_weight(share_weight)
            self.uow.users.update(user)
            self.uow.commit()
        return user

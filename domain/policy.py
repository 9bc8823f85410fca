"""Who may do what: owners act on their own tasks and models, admins on all of them,
inactive users on none."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from domain.errors import NotFoundError, PermissionDeniedError

if TYPE_CHECKING:
    from domain.user import User, UserId


class Action(enum.StrEnum):
    READ = "read"
    CHANGE = "change"
    CANCEL = "cancel"
    DELETE = "delete"


def may_act_on(actor: User, action: Action, *, owner_id: UserId) -> bool:
    # Every action follows the same rule today; `action` keeps call sites honest for the day
    # one of them does not (e.g. read-only auditors).
    del action
    return actor.is_active and (actor.is_admin or actor.id == owner_id)


def ensure_may_act_on(
    actor: User, action: Action, *, owner_id: UserId, resource: str, resource_id: object
) -> None:
    """Raise NotFoundError when `actor` may not touch the resource.

    Not found rather than forbidden: telling a stranger that an id exists is already a leak.
    """
    if not may_act_on(actor, action, owner_id=owner_id):
        raise NotFoundError(
            f"{resource} {resource_id} not found", **{f"{resource}_id": str(resource_id)}
        )


def ensure_active(actor: User) -> None:
    if not actor.is_active:
        raise PermissionDeniedError("this account is deactivated")


def ensure_admin(actor: User) -> None:
    ensure_active(actor)
    if not actor.is_admin:
        raise PermissionDeniedError("this operation is for administrators only")


def visible_owner(actor: User, *, asked_for: UserId | None = None) -> UserId | None:
    """The owner a listing is restricted to: the actor's own id, or for admins the owner
    they `asked_for` (None: everyone's). Only admins may ask for another owner than themselves."""
    ensure_active(actor)
    if asked_for not in (None, actor.id) and not actor.is_admin:
        raise PermissionDeniedError("only administrators may list another user's items")
    return asked_for if actor.is_admin else actor.id

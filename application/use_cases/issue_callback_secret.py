"""Issuing the secret a user's callback URLs are signed with."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import UnitOfWork
from domain.policy import ensure_active
from domain.user import User
from domain.webhook import new_secret


@dataclass(frozen=True, slots=True)
class IssueCallbackSecret:
    """A new secret for the deliveries to the actor's callback URLs (a submission's
    `callback_url`), replacing any earlier one; returned once."""

    uow: UnitOfWork

    def execute(self, actor: User) -> str:
        ensure_active(actor)
        secret = new_secret()
        with self.uow:
            self.uow.webhooks.set_callback_secret(actor.id, secret)
            self.uow.commit()
        return secret

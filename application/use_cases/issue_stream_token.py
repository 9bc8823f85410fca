"""Issuing a stream token: a short-lived token good only for reading event streams."""

from __future__ import annotations

from dataclasses import dataclass

from application.ports import STREAM_SCOPE, AccessToken, TokenService
from domain.policy import ensure_active
from domain.user import User


@dataclass(frozen=True, slots=True)
class IssueStreamToken:
    """Rules: for an active user; valid `lifetime_seconds` (60 by default) and only for
    reading events, because browsers' EventSource puts it in the URL, where logs keep it."""

    tokens: TokenService
    lifetime_seconds: int = 60

    def execute(self, actor: User) -> AccessToken:
        ensure_active(actor)
        return self.tokens.issue_scoped(
            actor.id,
            actor.token_version,
            scope=STREAM_SCOPE,
            lifetime_seconds=self.lifetime_seconds,
        )

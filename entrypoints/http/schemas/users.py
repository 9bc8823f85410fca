"""User and authentication request and response bodies."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, Field

from application.use_cases.get_quota import Quota
from domain.user import User
from entrypoints.http.schemas.common import PlainText, StrictRequest


def _deliverable_syntax(text: str) -> str:
    # email-validator judges the syntax (RFC 5321/5322, IDNA) and normalises; the domain's
    # Email then settles the one canonical form accounts are compared by.
    try:
        return validate_email(
            unicodedata.normalize("NFKC", text.strip()),  # fullwidth letters are letters
            check_deliverability=False,
            allow_smtputf8=False,
            globally_deliverable=False,
        ).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


class RegisterRequest(StrictRequest):
    email: Annotated[PlainText, AfterValidator(_deliverable_syntax)] = Field(
        max_length=254, examples=["ada@example.com"]
    )
    password: str = Field(
        description="8 characters to 72 bytes (UTF-8); no control characters, and not one of the"
        " most common passwords.",
        examples=["correct horse battery"],
    )


class CreateUserRequest(RegisterRequest):
    is_admin: bool = False


class ChangePasswordRequest(StrictRequest):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(
        max_length=1000, description="The rules of sign-up; every session ends with it."
    )


class UpdateUserRequest(StrictRequest):
    is_active: bool | None = None
    is_admin: bool | None = None
    share_weight: int | None = Field(
        None,
        description="The user's share of a crowded queue under fair sharing (1 to 100, "
        "default 1): weight 3 gets three releases for every one of weight 1.",
    )


class UserResponse(BaseModel):
    id: UUID
    email: str
    is_active: bool
    is_admin: bool
    share_weight: int
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserResponse:
        return cls(
            id=user.id,
            email=str(user.email),
            is_active=user.is_active,
            is_admin=user.is_admin,
            share_weight=user.share_weight,
            created_at=user.created_at,
        )


class UserPage(BaseModel):
    items: list[UserResponse]
    next_cursor: str | None = None


class SignUpAccepted(BaseModel):
    """The answer to every sign-up that passed validation, whether or not the email already
    had an account: the same for both, so it confirms no account."""

    email: str = Field(description="The email as it is stored: trimmed, lower-cased.")
    detail: str = Field(
        "If this email had no account, it has one now: log in with it and the password you "
        "chose. If it had one, nothing was changed.",
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int = Field(description="Seconds until the token expires.")


class UsageResponse(BaseModel):
    used: int = Field(ge=0)
    limit: int = Field(ge=1)


class QuotaResponse(BaseModel):
    active_tasks: UsageResponse = Field(description="Your pending plus running tasks.")

    @classmethod
    def of(cls, quota: Quota) -> QuotaResponse:
        usage = quota.active_tasks
        return cls(active_tasks=UsageResponse(used=usage.used, limit=usage.limit))

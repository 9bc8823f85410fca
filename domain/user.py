"""The User entity and the Email value object."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import NewType
from uuid import UUID, uuid4

from domain.errors import ValidationError
from domain.text import check_plain_text

UserId = NewType("UserId", UUID)

# Deliberately simple: one '@', a dot in the domain, no spaces. Deliverability is not our job.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_EMAIL_LENGTH = 254


@dataclass(frozen=True, slots=True)
class Email:
    """An email address, normalised: surrounding blanks removed, lower-cased."""

    value: str

    def __post_init__(self) -> None:
        normalised = self.value.strip().lower()
        if len(normalised) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(normalised):
            raise ValidationError("email is not a valid address", field="email")
        object.__setattr__(self, "value", normalised)

    def __str__(self) -> str:
        return self.value


@dataclass(eq=False, kw_only=True)
class User:
    id: UserId
    email: Email
    hashed_password: str = field(repr=False)
    created_at: datetime
    is_active: bool = True
    is_admin: bool = False

    @classmethod
    def register(
        cls, *, email: Email, hashed_password: str, at: datetime, is_admin: bool = False
    ) -> User:
        return cls(
            id=UserId(uuid4()),
            email=email,
            hashed_password=hashed_password,
            created_at=at,
            is_admin=is_admin,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    def change_password(self, hashed_password: str) -> None:
        self.hashed_password = hashed_password

    def deactivate(self) -> None:
        self.is_active = False

    def activate(self) -> None:
        self.is_active = True

    def grant_admin(self) -> None:
        self.is_admin = True

    def revoke_admin(self) -> None:
        self.is_admin = False


MIN_PASSWORD_LENGTH = 8
# bcrypt reads at most 72 bytes; refusing longer passwords beats truncating them silently.
MAX_PASSWORD_BYTES = 72


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords, case-folded."""
    text = resources.files("domain").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line and line[0] != "#"
    )


def check_new_password(password: str) -> None:
    """Raise ValidationError unless `password` is acceptable for a new account.

    Control characters are refused: bcrypt stops at a NUL and repeats a short key, so
    "P\0P" would log in as "P"; the others cannot be typed reliably anyway.
    """
    check_plain_text(password, field="password")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValidationError(
            f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8", field="password"
        )
    if password.casefold() in common_passwords():
        raise ValidationError(
            "password is one of the most common passwords; choose another", field="password"
        )

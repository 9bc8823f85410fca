"""The User entity and the Email value object."""

from __future__ import annotations

import functools
import re
import unicodedata
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
# Letters that render as nothing yet are not format characters (category Cf, refused too).
_INVISIBLE_LETTERS = frozenset("\u034f\u115f\u1160\u2800\u3164\uffa0")


@dataclass(frozen=True, slots=True)
class Email:
    """An email address in one canonical form, so that an address that looks like another
    is either the same account or refused:

    - NFKC and case folding (fullwidth and other compatibility forms become plain letters);
    - control, invisible and bidirectional-override characters are refused;
    - the part before '@' must then be ASCII (no Cyrillic or Greek lookalikes);
    - the domain is kept in its ASCII (IDNA) form, so a lookalike domain reads as the
      `xn--` name it really is; a trailing dot is refused.
    """

    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _canonical_email(self.value))

    @classmethod
    def stored(cls, value: str) -> Email:
        """An address read back from storage, as it was canonicalised when stored: rules
        tightened since must not make existing accounts unreadable."""
        email = object.__new__(cls)
        object.__setattr__(email, "value", value)
        return email

    def __str__(self) -> str:
        return self.value


def _invalid(reason: str) -> ValidationError:
    return ValidationError(f"email is not a valid address: {reason}", field="email")


def _canonical_email(text: str) -> str:
    text = check_plain_text(text.strip(), field="email")  # surrounding blanks are no part
    for character in text:
        if unicodedata.category(character) == "Cf" or character in _INVISIBLE_LETTERS:
            raise _invalid(f"it holds an invisible character (U+{ord(character):04X})")
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    folded = folded.strip()
    if len(folded) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(folded):
        raise ValidationError("email is not a valid address", field="email")
    local, _, domain = folded.rpartition("@")
    if not local.isascii():
        raise _invalid("the part before '@' must be ASCII")
    if domain.endswith("."):
        raise _invalid("the domain ends with a dot")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise _invalid("the domain is not a valid domain name") from None
    address = f"{local}@{ascii_domain.lower()}"
    if len(address) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(address):
        raise ValidationError("email is not a valid address", field="email")
    return address


@dataclass(eq=False, kw_only=True)
class User:
    id: UserId
    email: Email
    hashed_password: str = field(repr=False)
    created_at: datetime
    is_active: bool = True
    is_admin: bool = False
    # Part of every access token issued; a token of another version is refused, so raising
    # it ends every session at once (password change, deactivation, logout everywhere).
    token_version: int = 0
    # The owner's share of a crowded queue under fair sharing (domain/flow.py): an owner
    # of weight 3 gets three releases for every one of an owner of weight 1.
    share_weight: int = 1

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
        """A new password ends every session: a token taken with the old one must not
        outlive it (nor carry rights granted along with the new one)."""
        self.hashed_password = hashed_password
        self.end_sessions()

    def deactivate(self) -> None:
        """Ends every session, so reactivating the account does not revive old tokens."""
        self.is_active = False
        self.end_sessions()

    def end_sessions(self) -> None:
        """Invalidate every access token issued so far."""
        self.token_version += 1

    def activate(self) -> None:
        self.is_active = True

    def grant_admin(self) -> None:
        self.is_admin = True

    def revoke_admin(self) -> None:
        self.is_admin = False

    def set_share_weight(self, weight: int) -> None:
        """Raises ValidationError (field `share_weight`) outside 1..MAX_SHARE_WEIGHT."""
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int)
            or not 1 <= weight <= MAX_SHARE_WEIGHT
        ):
            raise ValidationError(
                f"share_weight must be an integer from 1 to {MAX_SHARE_WEIGHT}",
                field="share_weight",
            )
        self.share_weight = weight


MAX_SHARE_WEIGHT = 100


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

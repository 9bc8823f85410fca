"""Password hashing with bcrypt, refusing what bcrypt would silently truncate."""

from __future__ import annotations

import bcrypt

from application.ports import PasswordHasher
from domain.errors import ValidationError
from domain.user import MAX_PASSWORD_BYTES

DEFAULT_ROUNDS = 12
# bcrypt's own bounds on the cost factor (log2 of the number of rounds).
_MIN_ROUNDS, _MAX_ROUNDS = 4, 31


class BcryptPasswordHasher(PasswordHasher):
    def __init__(self, rounds: int = DEFAULT_ROUNDS) -> None:
        if not _MIN_ROUNDS <= rounds <= _MAX_ROUNDS:
            raise ValueError(f"bcrypt rounds must be between {_MIN_ROUNDS} and {_MAX_ROUNDS}")
        self.rounds = rounds
        # Checked when the account does not exist, so that answer costs as much as a wrong
        # password; computed once here rather than on the first unknown login.
        self._dummy_hash = bcrypt.hashpw(b"taskhub-dummy-password", bcrypt.gensalt(rounds))

    def hash(self, password: str) -> str:
        secret = password.encode("utf-8")
        if len(secret) > MAX_PASSWORD_BYTES:
            raise ValidationError(
                f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8", field="password"
            )
        if b"\0" in secret:
            # bcrypt stops reading at a NUL: "P\0P" would hash as "P".
            raise ValidationError("password must not contain a NUL character", field="password")
        return bcrypt.hashpw(secret, bcrypt.gensalt(self.rounds)).decode("ascii")

    def verify(self, password: str, hashed: str | None) -> bool:
        secret = password.encode("utf-8")
        # Longer than bcrypt reads: it cannot be the password hashed (we never truncate), and
        # bcrypt 5 would raise. Refused at once whether or not the account exists.
        # Nor one holding a NUL, which bcrypt would cut short and match against its prefix.
        if len(secret) > MAX_PASSWORD_BYTES or b"\0" in secret:
            return False
        if hashed is None:
            bcrypt.checkpw(secret, self._dummy_hash)
            return False
        try:
            return bcrypt.checkpw(secret, hashed.encode("ascii"))
        except ValueError:  # not a bcrypt hash (UnicodeEncodeError is a ValueError too)
            return False

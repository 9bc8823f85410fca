"""Secret values encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from `cryptography`),
under several keys at once: MultiFernet seals with the first, opens with any."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from application.errors import SecretUnreadableError
from application.ports import SecretCipher

UNREADABLE = (
    "no configured encryption key opens it (the key it was sealed with is lost or was "
    "removed from TASKHUB_ENCRYPTION_KEYS)"
)


def new_key() -> str:
    """A fresh key, as TASKHUB_ENCRYPTION_KEYS takes it (url-safe base64 of 32 bytes)."""
    return Fernet.generate_key().decode()


def key_problem(key: str) -> str | None:
    """Why `key` is no Fernet key, or None."""
    try:
        Fernet(key)
    except ValueError:
        return "must be 32 url-safe base64-encoded bytes (make one with `taskhub keys generate`)"
    return None


class FernetSecretCipher(SecretCipher):
    """`keys` newest first: the first seals, every one opens."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadableError(UNREADABLE) from None

    def rotate(self, token: str) -> str:
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretUnreadableError(UNREADABLE) from None

"""A cipher for unit tests: no cryptography, but as strict about keys as the real one."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from application.errors import SecretUnreadableError
from application.ports import SecretCipher


class InMemorySecretCipher(SecretCipher):
    """A token is the newest key's name and the plaintext, base64-encoded (so the plaintext
    never shows in it as is); only a token of one of `keys` opens."""

    def __init__(self, keys: Sequence[str] = ("key-1",)) -> None:
        self.keys = list(keys)

    def encrypt(self, plaintext: str) -> str:
        return f"{self.keys[0]}:{base64.b64encode(plaintext.encode()).decode()}"

    def decrypt(self, token: str) -> str:
        key, _, body = token.partition(":")
        if key not in self.keys:
            raise SecretUnreadableError(f"no configured key opens it (sealed with {key})")
        return base64.b64decode(body).decode()

    def rotate(self, token: str) -> str:
        return self.encrypt(self.decrypt(token))

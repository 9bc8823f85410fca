"""Secret values of tasks: argument fields a task type marks secret, and a secret result.

A secret value is stored sealed, as `{"$sealed": "<token>"}`, the token being the value
encrypted by the `SecretCipher`; it is opened only where it is needed: the arguments in the
worker process that runs the task, a secret result in `GET /tasks/{id}/result`. Everywhere a
task is shown (API, console, events, CLI) a sealed value reads as `MASK`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeGuard

from application.errors import SecretUnreadableError
from application.ports import SecretCipher, TaskTypeSpec
from domain.errors import ValidationError

SEALED = "$sealed"
MASK = "********"


def is_sealed(value: object) -> TypeGuard[dict[str, str]]:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(SEALED), str)


def masked(value: Any) -> Any:
    """`value` with every sealed value in it, however deep, replaced by MASK."""
    if is_sealed(value):
        return MASK
    if isinstance(value, dict):
        return {key: masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def holds_sealed(value: Any) -> bool:
    if is_sealed(value):
        return True
    if isinstance(value, dict):
        return any(holds_sealed(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_sealed(item) for item in value)
    return False


class NoEncryptionKey(SecretCipher):
    """The cipher of a process given no key: every secret is refused, so nothing is ever
    stored in clear by mistake."""

    def encrypt(self, plaintext: str) -> str:
        raise SecretUnreadableError(_NO_KEY)

    def decrypt(self, token: str) -> str:
        raise SecretUnreadableError(_NO_KEY)

    def rotate(self, token: str) -> str:
        raise SecretUnreadableError(_NO_KEY)


_NO_KEY = "no encryption key is configured (TASKHUB_ENCRYPTION_KEYS)"
NO_ENCRYPTION_KEY = NoEncryptionKey()


@dataclass(frozen=True, slots=True)
class SecretSealing:
    """Seals and opens a task's secret values with `cipher`."""

    cipher: SecretCipher

    def seal_arguments(self, spec: TaskTypeSpec, kwargs: dict[str, Any]) -> dict[str, Any]:
        """`kwargs` (validated, secrets in clear) with each secret field sealed."""
        if not spec.secret_fields:
            return kwargs
        sealed = dict(kwargs)
        for name in spec.secret_fields:
            value = sealed.get(name)
            if value is None:
                continue
            if not isinstance(value, str):
                raise ValidationError("a secret must be a string", field=f"kwargs.{name}")
            try:
                sealed[name] = {SEALED: self.cipher.encrypt(value)}
            except SecretUnreadableError as exc:
                raise ValidationError(
                    f"{spec.name} takes secret arguments, and {exc.detail}",
                    field=f"kwargs.{name}",
                ) from None
        return sealed

    def open_arguments(self, spec: TaskTypeSpec, kwargs: dict[str, Any]) -> dict[str, Any]:
        """`kwargs` as stored, each sealed secret field opened. Raises
        SecretUnreadableError naming the field no key opens."""
        if not spec.secret_fields:
            return kwargs
        opened = dict(kwargs)
        for name in spec.secret_fields:
            value = opened.get(name)
            if is_sealed(value):
                try:
                    opened[name] = self.cipher.decrypt(value[SEALED])
                except SecretUnreadableError as exc:
                    raise SecretUnreadableError(
                        f"the secret argument {name!r} cannot be decrypted: {exc.detail}",
                        field=f"kwargs.{name}",
                    ) from None
        return opened

    def seal_result(self, result: Any) -> dict[str, str]:
        return {SEALED: self.cipher.encrypt(json.dumps(result))}

    def open_result(self, result: Any) -> Any:
        """A secret result opened; any other result as it is."""
        if not is_sealed(result):
            return result
        try:
            return json.loads(self.cipher.decrypt(result[SEALED]))
        except SecretUnreadableError as exc:
            raise SecretUnreadableError(
                f"the task's result cannot be decrypted: {exc.detail}"
            ) from None

    def rotated(self, value: Any) -> Any:
        """`value` with every sealed value in it re-sealed under the newest key."""
        if is_sealed(value):
            return {SEALED: self.cipher.rotate(value[SEALED])}
        if isinstance(value, dict):
            return {key: self.rotated(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.rotated(item) for item in value]
        return value

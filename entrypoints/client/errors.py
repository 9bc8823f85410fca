"""What can go wrong talking to the API, each with a message a person can act on."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOGIN_HINT = "run `taskhub login`"


class ClientError(Exception):
    """A failure the CLI reports as one message and exit code 1, never as a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotLoggedInError(ClientError):
    """No usable stored token: none, unreadable or expired."""


class ApiUnreachableError(ClientError):
    """The API did not answer at all (refused, timed out, bad address)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


@dataclass(eq=False)
class ProblemError(ClientError):
    """The API answered with an error: an RFC 9457 problem document, or what stands in for one."""

    status: int
    title: str
    detail: str = ""
    errors: list[FieldError] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(f"{self.title}: {self.detail}" if self.detail else self.title)

    @classmethod
    def of(cls, status: int, reason: str, body: Any) -> ProblemError:
        """Built from a response's status and parsed body; a proxy's HTML page still reads."""
        if not isinstance(body, dict):
            return cls(status=status, title=reason or f"HTTP {status}")
        errors = [
            FieldError(str(e.get("field", "")), str(e.get("message", "")))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        ]
        title = str(body.get("title") or reason or f"HTTP {status}")
        return cls(status=status, title=title, detail=str(body.get("detail") or ""), errors=errors)

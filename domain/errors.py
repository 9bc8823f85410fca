"""The one hierarchy of domain errors: each has a stable `code` and `title`, none knows HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error raised by the domain and the use cases."""

    code: ClassVar[str] = "domain_error"
    title: ClassVar[str] = "Domain rule violated"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        # Extra, machine-readable facts (e.g. task_id, field) an entrypoint may expose.
        self.context = context


class NotFoundError(DomainError):
    code = "not_found"
    title = "Resource not found"


class PermissionDeniedError(DomainError):
    code = "permission_denied"
    title = "Permission denied"


class AuthenticationError(DomainError):
    code = "authentication_failed"
    title = "Authentication failed"


class ValidationError(DomainError):
    """A value breaks a rule of the domain; `field` names the offending input."""

    code = "validation_error"
    title = "Invalid input"

    def __init__(self, detail: str, *, field: str, **context: Any) -> None:
        super().__init__(detail, field=field, **context)
        self.field = field

    @property
    def field_errors(self) -> list[tuple[str, str]]:
        """Each offending input with what is wrong with it: (field, message) pairs."""
        return [(self.field, self.detail)]


_FIELDS_NAMED = 5  # in an InvalidFieldsError's detail; `field_errors` has every one


class InvalidFieldsError(ValidationError):
    """Several inputs are invalid at once: `field_errors` names each with its own message, so
    a client fixes them all in one go. `field` is the first of them."""

    def __init__(
        self,
        errors: Sequence[tuple[str, str]],
        *,
        summary: str = "invalid value for",
        **context: Any,
    ) -> None:
        if not errors:
            raise ValueError("InvalidFieldsError needs at least one error")
        if len(errors) == 1 and summary == "invalid value for":
            detail = f"{errors[0][0]}: {errors[0][1]}"
        else:
            detail = f"{summary}: {_named_fields([field for field, _ in errors])}"
        super().__init__(detail, field=errors[0][0], **context)
        self._errors = list(errors)

    @property
    def field_errors(self) -> list[tuple[str, str]]:
        return list(self._errors)


def _named_fields(fields: Sequence[str]) -> str:
    named = ", ".join(dict.fromkeys(fields[:_FIELDS_NAMED]))
    if len(fields) > _FIELDS_NAMED:
        named += f" and {len(fields) - _FIELDS_NAMED} more"
    return named


class ConflictError(DomainError):
    """The request is valid but clashes with the current state of a resource."""

    code = "conflict"
    title = "Conflict with the current state"


class InvalidTransitionError(ConflictError):
    code = "invalid_transition"
    title = "Invalid state transition"

    def __init__(self, entity: str, from_: str, to: str, **context: Any) -> None:
        super().__init__(f"{entity} cannot move from {from_} to {to}", **context)
        self.entity = entity
        self.from_ = from_
        self.to = to


class StaleRunError(ConflictError):
    """A worker wrote with a run token that is no longer the task's current run."""

    code = "stale_run"
    title = "Stale task run"


class AlreadyExistsError(ConflictError):
    code = "already_exists"
    title = "Resource already exists"


class ConcurrencyConflictError(ConflictError):
    """Another writer changed the resource between our read and our write."""

    code = "concurrent_update"
    title = "Concurrent update"


class QuotaExceededError(DomainError):
    code = "quota_exceeded"
    title = "Quota exceeded"

    def __init__(self, detail: str, *, quota: str, limit: int, **context: Any) -> None:
        super().__init__(detail, quota=quota, limit=limit, **context)
        self.quota = quota
        self.limit = limit

"""Errors raised by the application layer itself, beyond the domain's rules."""

from __future__ import annotations

from collections.abc import Sequence

from domain.errors import ConflictError, DomainError, InvalidFieldsError, ValidationError


class DependencyUnavailableError(DomainError):
    """A service taskhub depends on (database, broker) cannot be reached right now."""

    code = "dependency_unavailable"
    title = "Service dependency unavailable"

    def __init__(self, detail: str, *, dependency: str, cause: str | None = None) -> None:
        super().__init__(detail, dependency=dependency)
        self.dependency = dependency
        # Why, in a few words an operator can act on ("disk full", "connection refused"):
        # for logs and readiness, never in an API client's problem document.
        self.cause = cause

    def __str__(self) -> str:
        return f"{self.detail} ({self.cause})" if self.cause else self.detail


class TaskCancelledError(DomainError):
    """Raised inside a running task when its run is over: cancelled, deleted or re-queued."""

    code = "task_cancelled"
    title = "Task cancelled"


class TaskInputError(DomainError):
    """A running task cannot go on because of what it was given (a file that is missing,
    unreadable or outside the files area): the caller's mistake, not a fault of the service.
    The task fails with this message, which must name nothing of the server beyond what the
    caller gave; the worker logs it at INFO, without a traceback, and never retries it."""

    code = "task_input"
    title = "The task's input cannot be used"


class SecretUnreadableError(DomainError):
    """A sealed value that no configured encryption key opens: the key was lost or
    replaced, or none is configured. The task that needs it fails; nothing else does."""

    code = "secret_unreadable"
    title = "A secret value cannot be decrypted"


class TooManyAttemptsError(DomainError):
    """Too many failed logins for an account or from an address: wait `retry_after` seconds."""

    code = "too_many_attempts"
    title = "Too many failed attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class InvalidBatchError(InvalidFieldsError):
    """Some tasks of a batch are invalid: `field_errors` names each one's field, prefixed
    by its position (`tasks[3].kwargs.seconds`). None of the batch was stored."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__(errors, summary="invalid tasks in the batch")


class UnknownTaskTypeError(ValidationError):
    """A task type no catalog holds; the message lists the ones a client may submit."""

    def __init__(self, name: str, *, known: Sequence[str]) -> None:
        valid = ", ".join(sorted(known)) or "none"
        super().__init__(
            f"unknown task type {name!r}; valid task types: {valid}",
            field="task_type",
            task_types=sorted(known),
        )


class IdempotencyKeyInUseError(ConflictError):
    """Another request with the same idempotency key is still being processed: retry later,
    and get its response then."""

    code = "idempotency_key_in_use"
    title = "A request with this idempotency key is in progress"


class FencedOffError(ConflictError):
    """A scheduler wrote with a lease older than one that has written since: it lost its
    lease (paused, partitioned) and another scheduler took over. Nothing it did is stored."""

    code = "fenced_off"
    title = "Superseded scheduler lease"

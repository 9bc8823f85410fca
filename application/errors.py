"""Errors raised by the application layer itself, beyond the domain's rules."""

from __future__ import annotations

from domain.errors import DomainError


class DependencyUnavailableError(DomainError):
    """A service taskhub depends on (database, broker) cannot be reached right now."""

    code = "dependency_unavailable"
    title = "Service dependency unavailable"

    def __init__(self, detail: str, *, dependency: str) -> None:
        super().__init__(detail, dependency=dependency)
        self.dependency = dependency


class TaskCancelledError(DomainError):
    """Raised inside a running task when its run is over: cancelled, deleted or re-queued."""

    code = "task_cancelled"
    title = "Task cancelled"
